/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'
import { bundleReport } from './build/bundle-report.ts'

// The console's API during `npm run dev` / `npm run preview`: a running osprey (or dev/stub-server.mjs).
const apiTarget = process.env.OSPREY_API ?? 'http://127.0.0.1:8048'
const proxy = { '/api': { target: apiTarget, changeOrigin: false } }

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Element Plus components and their CSS are imported per use, so only what the pages use ships.
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
      // Only Element Plus is auto-imported; our own components are imported explicitly.
      dirs: [],
      dts: 'components.d.ts',
    }),
    bundleReport({ budgetKiB: 400, lazyOnly: ['/node_modules/echarts/', '/node_modules/zrender/'] }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // vue-i18n: Composition API only; drop the legacy API and devtools hooks from the bundle.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.spec.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    server: {
      // Element Plus ships ESM that imports its CSS; let Vite transform it instead of Node loading .css.
      deps: { inline: ['element-plus'] },
    },
  },
})
