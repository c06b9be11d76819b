import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The UI lives in ui/; the Tauri window loads ui/dist (tauri.conf.json) and `chronicle serve`
// serves the same build as the web console.
export default defineConfig({
  root: "ui",
  base: "./",
  plugins: [react()],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { root: "ui", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
