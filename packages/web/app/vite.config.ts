import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The app is built into the package (dist/app), so `hindsight serve` needs no build on the user's
// machine; relative asset URLs let the server mount it at any path.
const here = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
});
