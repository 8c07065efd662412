// esbuild bundles imported stylesheets (src/build-web.ts); to TypeScript they are modules without exports.
declare module '*.css';
