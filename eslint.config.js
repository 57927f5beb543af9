// ESLint (typescript-eslint, type-unaware recommended rules: fast enough for every CI run) over the sources, scripts
// and tests; formatting is Prettier's (npm run lint checks both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['node_modules/**', 'dist/**', 'data/**', 'tmp-probe/**', 'test-results/**', 'coverage/**'] }, js.configs.recommended, ...tseslint.configs.recommended, {
  languageOptions: {
    globals: {
      process: 'readonly',
      console: 'readonly',
      Buffer: 'readonly',
      URL: 'readonly',
      setTimeout: 'readonly',
      clearTimeout: 'readonly',
      setInterval: 'readonly',
      clearInterval: 'readonly',
      performance: 'readonly',
      fetch: 'readonly',
      structuredClone: 'readonly',
      AbortController: 'readonly',
      TextDecoder: 'readonly',
      TextEncoder: 'readonly',
    },
  },
  rules: {
    // `_name` marks what is deliberately unused (a destructured field left out, a required parameter).
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
  },
});
