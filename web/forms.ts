import type { ChatPage } from './app.js';
import { $ } from './dom.js';

/** The chat's forms (web/index.html), once registered: groups, leaving, and the two compose boxes. */
export function wire(page: ChatPage): void {
  $('create-group').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('new-group');
    void page.createGroup(input.value.trim()).then((error) => {
      $('compose-error').textContent = error;
      if (error === '') input.value = '';
    });
  });
  $('leave').addEventListener('click', () => void page.leave());
  composer('text', 'compose', 'compose-error', (t) => page.send(t));
  composer('private-text', 'private-compose', 'private-error', (t) => page.sendPrivate(t));
}

/** A compose box: its form submits (Enter too, Shift+Enter for a new line); an error shows, the text stays. */
function composer(textId: string, formId: string, errorId: string, send: (text: string) => Promise<string>): void {
  const text = $<HTMLTextAreaElement>(textId);
  const submit = (): void => {
    const value = text.value;
    text.value = ''; // cleared now: Enter twice must not send it twice
    void send(value).then((error) => {
      $(errorId).textContent = error;
      if (error !== '' && text.value === '') text.value = value;
    });
  };
  $(formId).addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    }
  });
}
