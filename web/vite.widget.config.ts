import { defineConfig } from "vite";

// The web-chat widget: one classic script (no modules, no other files) that shops put on their own pages, so it
// loads from the inbox's origin on any site without CORS on the script itself. Built beside the inbox, into
// dist/widget.js (a fixed name: the shops' pages name it; deployed with a short cache, like index.html).
export default defineConfig({
  build: {
    target: "es2020",
    outDir: "dist",
    emptyOutDir: false,
    sourcemap: false,
    lib: { entry: "src/widget/main.ts", name: "shopdeskWidget", formats: ["iife"], fileName: () => "widget.js" },
  },
});
