// Types for `import` of @ssebridge/publisher: the same declarations as for
// require() (index.d.cts), as the ES entry re-exports the CommonJS one.
export * from './index.cjs';
