/**
 * Builds the phone app (client/) into dist/: the Solid shell, lazy screens, the web app manifest
 * and our own service worker (client/sw/sw.ts → dist/sw.js, precache list injected by workbox).
 */
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import solid from 'vite-plugin-solid';
import { VitePWA } from 'vite-plugin-pwa';
import { DOC_PAGES, docPage } from './client/docs/page.ts';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

/** Also drawn into the icons by scripts/make-icons.mjs; the light/dark bar colours live in index.html. */
const THEME_COLOR = '#0f766e';

/** The guides the app links to (/trust, /troubleshooting), rendered from docs/*.md into the build. */
function docPages(): Plugin {
  const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
  return {
    name: 'relay-doc-pages',
    apply: 'build',
    generateBundle() {
      const css = this.emitFile({ type: 'asset', name: 'docs.css', source: read('./client/docs/docs.css') });
      const stylesheet = `/${this.getFileName(css)}`;
      for (const page of DOC_PAGES) {
        this.emitFile({ type: 'asset', fileName: page.fileName, source: docPage(read(`./docs/${page.source}`), { source: page.source, stylesheet }) });
      }
    },
  };
}

export default defineConfig({
  base: '/',
  define: { __APP_VERSION__: JSON.stringify(version) },
  plugins: [
    solid(),
    docPages(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'client/sw',
      // Emitted as sw.js. That URL is permanent: installed copies keep asking for it forever.
      filename: 'sw.ts',
      injectRegister: false,
      manifestFilename: 'manifest.webmanifest',
      injectManifest: {
        // A classic worker script: every browser with service workers can run it, module workers are newer.
        rollupFormat: 'iife',
        // The manifest and its icons are added by the plugin; list only what it does not know about.
        globPatterns: ['**/*.{js,css,html,svg}', 'apple-touch-icon.png'],
      },
      manifest: {
        id: '/',
        name: 'OpenWork Relay',
        short_name: 'Relay',
        description: 'Drive the OpenCode coding agent on your computer from your phone, end-to-end encrypted.',
        lang: 'en',
        display: 'standalone',
        start_url: './',
        scope: './',
        theme_color: THEME_COLOR,
        background_color: '#f6f7f9',
        categories: ['developer', 'productivity'],
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
    }),
  ],
  build: {
    outDir: 'dist',
    // The host's CSP forbids inline scripts; the polyfill is one, and every target browser has modulepreload.
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
