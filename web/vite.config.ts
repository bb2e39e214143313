import { defineConfig } from "vitest/config";

// Preact's JSX runtime (no React compatibility layer); the app is served from "/" locally and in CloudFront.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { target: "es2022", sourcemap: false, assetsInlineLimit: 0 },
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
