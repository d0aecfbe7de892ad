// ESLint flat config: the page's ES modules (browser) and the build/test/benchmark scripts (node).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static/vendor/**", "node_modules/**", ".venv/**", "build/**"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: { ...globals.browser } },
  },
  {
    // page-side scripts the tests run inside the browser (one expression, no module)
    files: ["tests/browser/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "script", globals: { ...globals.browser } },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: { ...globals.node } },
  },
  { rules: { "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }] } },
];
