// ESLint: typescript-eslint's recommended rules over the package, its tests, scripts and examples.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", "build/", "bench/.work/", "examples/**/node_modules/", ".pulumi-state/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    { languageOptions: { globals: { ...globals.node } } },
    {
        // Small CommonJS helpers that node runs as they are (the consumer test).
        files: ["**/*.js"],
        languageOptions: { sourceType: "commonjs" },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // Test doubles implement Pulumi's `runtime.Mocks` and record what the SDK hands them, which
        // the SDK itself types as `any`; tests then read those records freely. The package (src/)
        // keeps the rule.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
