import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layering of src/ (docs/architecture.md): what each folder may import besides itself and the
 * packages. lib/ is the floor; the pipeline's stages import only what comes before them and the
 * adapters they drive; the runtime imports everything below it; tools/ imports anything. An
 * import against it fails lint; scripts/imports.mjs (also in `npm run lint`) fails on any cycle.
 */
const BELOW_RUNTIME = [
  'lib',
  'pipeline/policy',
  'pipeline/compile',
  'pipeline/facts',
  'pipeline/decide',
  'pipeline/actuate',
  'pipeline/record',
  'adapters/kube',
  'adapters/secrets',
  'adapters/providers',
  'adapters/routers',
  'adapters/webhooks',
  'adapters/notifiers',
];
const LAYERS = {
  lib: [],
  'pipeline/policy': ['lib'],
  'adapters/kube': ['lib', 'pipeline/policy'],
  'adapters/secrets': ['lib', 'pipeline/policy', 'adapters/kube'],
  'adapters/providers': ['lib', 'pipeline/policy', 'adapters/secrets'],
  'adapters/routers': ['lib', 'pipeline/policy', 'adapters/kube'],
  /** The policy's webhooks: the providers' bounded HTTP client and host allow-list, and the Secret reader. */
  'adapters/webhooks': ['lib', 'pipeline/policy', 'adapters/secrets', 'adapters/providers'],
  // Notification formats and their HTTP delivery: the providers' HTTP client carries the host allow-list.
  'adapters/notifiers': ['lib', 'pipeline/policy', 'adapters/providers'],
  'pipeline/compile': ['lib', 'pipeline/policy'],
  'pipeline/facts': [
    'lib',
    'pipeline/policy',
    'pipeline/compile',
    'adapters/kube',
    'adapters/secrets',
    'adapters/providers',
    'adapters/webhooks',
  ],
  'pipeline/decide': ['lib', 'pipeline/policy', 'pipeline/compile', 'pipeline/facts'],
  'pipeline/actuate': [
    'lib',
    'pipeline/policy',
    'pipeline/facts',
    'pipeline/decide',
    'adapters/kube',
    'adapters/routers',
  ],
  'pipeline/record': [
    'lib',
    'pipeline/policy',
    'pipeline/facts',
    'pipeline/decide',
    'adapters/kube',
    'adapters/secrets',
    'adapters/providers',
    'adapters/notifiers',
  ],
  'runtime/controller': BELOW_RUNTIME,
  'runtime/tick': [...BELOW_RUNTIME, 'runtime/controller'],
};
const FOLDERS = [...Object.keys(LAYERS), 'tools'];
const SANDBOX_ONLY_IN = 'src/tools/cli/sandbox-package.ts';

/** A relative import reaching `folder` (from its own kind, the kind's name is not in the path). */
function reaching(from, folder) {
  const [kind, name] = folder.split('/');
  const paths = from.split('/')[0] === kind && name ? [name, folder] : [folder];
  return paths.map((p) => `^(\\.\\./)+${p.replace('/', '\\/')}(\\/|$)`);
}

const layering = Object.entries(LAYERS).map(([folder, allowed]) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...FOLDERS.filter(
            (other) => other !== folder && !allowed.includes(other) && !allowed.includes(other.split('/')[0]),
          ).flatMap((other) =>
            reaching(folder, other).map((regex) => ({
              regex,
              message: `src/${folder} may not import src/${other} (the layering: eslint.config.js, docs/architecture.md)`,
            })),
          ),
          { group: ['@kubestead/sandbox'], message: `only ${SANDBOX_ONLY_IN} loads the sandbox package` },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/**/*.mjs',
      'scripts/**/*.mjs',
      'test/**/*.mjs',
      'eslint.config.js',
      'vitest.config.ts',
      'vitest.reliability.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['error', 12],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
      'max-params': ['error', 4],
      'max-depth': ['error', 4],
      'max-statements': ['error', 25],
    },
  },
  ...layering,
  {
    files: ['src/tools/**/*.ts'],
    ignores: [SANDBOX_ONLY_IN],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@kubestead/sandbox'], message: `only ${SANDBOX_ONLY_IN} loads the sandbox package` }] },
      ],
    },
  },
  // Time comes from the injected clock: nothing else reads the wall clock or sets a timer.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/lib/clock/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'read the time from the injected Clock (src/lib/clock), not Date.now()',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'read the time from the injected Clock (src/lib/clock), not new Date()',
        },
        {
          selector: "CallExpression[callee.name='setTimeout']",
          message: 'wait with the injected Clock (clock.sleep), not setTimeout',
        },
      ],
    },
  },
  // The sandbox is a package apart (packages/sandbox): it imports nothing of the product.
  {
    files: ['packages/sandbox/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./){2,}',
              message: 'the sandbox package imports nothing outside packages/sandbox (node builtins and packages only)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.test.ts', 'packages/*/test/**/*.ts'],
    rules: {
      'max-lines-per-function': 'off',
      'max-statements': 'off',
      'max-params': 'off',
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
