// Lint rules (docs/architecture.md "Tooling"): type-aware typescript-eslint,
// formatting left to Prettier (eslint-config-prettier turns the style rules off).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'web/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json', './tsconfig.web.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error: the bugs these catch are real in an event-driven server.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A switch with a default branch has chosen to ignore the other cases on purpose.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // The protocol and the renderer refuse control characters, so their regular expressions name them.
      'no-control-regex': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Store methods are async by contract (an implementation may await I/O), even where this one does not.
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always'],
      // A variable assigned after the closures that read it are made cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // The version comes from package.json, which sits outside the compiled tree.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['package\\.json$'] }],
      'no-console': 'error',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'testkit/**/*.ts'],
    rules: {
      // Tests and the benchmark print progress and use jest's loosely typed matchers.
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
