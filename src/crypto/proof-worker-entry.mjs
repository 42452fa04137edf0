// Worker threads do not inherit tsx's loader hooks (tap's do): register tsx in this thread when .ts cannot load yet.
// Only the TypeScript run starts here: the compiled build has no .mjs and starts proof-worker.js (see proof-pool.ts).
try {
  await import('./proof-worker.ts')
} catch (error) {
  /* c8 ignore next: any other failure is a bug in the worker module; the thread dies with it and the pool reports it */
  if (error.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
  const { register } = await import('tsx/esm/api')
  register()
  // A failed import stays failed under its URL: load the module again under another.
  await import('./proof-worker.ts?with-tsx')
}
