/**
 * The WeeChat instructions of docs/irc.md "Connecting", run as written in a
 * real WeeChat (weechat-headless) against a real server: SASL login, JOIN,
 * messages both ways with an IRC user in the channel. Skipped with a reason
 * where WeeChat is missing; .ci/run installs it and CI=true makes its
 * absence a failure.
 */
import { startServer } from '../../testkit/chat-roles';
import { IRC_ONLINE } from '../helpers/irc-framework-client';
import { RawIrc } from '../helpers/raw-irc';
import { removeTempDirs } from '../helpers/temp-dir';
import { describeWithWeechat, Weechat } from '../helpers/weechat';

const started: Weechat[] = [];
const raws: RawIrc[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop()));
  await Promise.all(raws.splice(0).map((r) => r.close()));
  removeTempDirs();
});

describeWithWeechat('WeeChat, set up as docs/irc.md says', () => {
  test('logs in with SASL, joins #room, and talks with an IRC user there', async () => {
    const server = await startServer(['--irc-port', '0']);
    const irc = Number(IRC_ONLINE.exec(await server.proc.waitForLine(IRC_ONLINE))![1]);
    const watcher = await RawIrc.registered(irc, 'watcher');
    raws.push(watcher);
    watcher.send('JOIN #room');
    await watcher.waitFor(/ 366 watcher #room /);

    // docs/irc.md "Connecting", WeeChat, with the test's port.
    const weechat = Weechat.start([
      `/server add chatapp 127.0.0.1/${irc} -notls`,
      '/set irc.server.chatapp.nicks alice',
      '/set irc.server.chatapp.sasl_mechanism plain',
      '/set irc.server.chatapp.sasl_username alice',
      '/set irc.server.chatapp.sasl_password secret',
      '/connect chatapp',
    ]);
    started.push(weechat);
    await weechat.waitLog('irc.server.chatapp', 'SASL authentication successful');
    await weechat.waitLog('irc.server.chatapp', 'End of /MOTD command.');
    await weechat.input('irc.server.chatapp', '/join #room');
    await watcher.waitFor(/^:alice!alice@chatapp JOIN #room$/);

    watcher.send('PRIVMSG #room :hello weechat');
    await weechat.waitLog('irc.chatapp.#room', /\twatcher\thello weechat$/m);
    await weechat.input('irc.chatapp.#room', 'hello from weechat');
    await watcher.waitFor(/^:alice!alice@chatapp PRIVMSG #room :?hello from weechat$/);
    await weechat.stop();

    // SASL bound the name to the password: a wrong one is refused, the right one logs in.
    const wrong = await RawIrc.connect(irc);
    raws.push(wrong);
    wrong.send('PASS wrong\r\nNICK alice\r\nUSER a 0 * :a');
    await wrong.waitFor(/^ERROR :Closing Link: .*\(Password incorrect\)$/);
    raws.push(await RawIrc.registered(irc, 'alice', 'secret'));
  });
});
