/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a running server (SWITCHYARD_URL, default localhost:8080).
const api = process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': { target: api, ws: true } } },
  test: { include: ['src/**/*.test.ts'] },
});
