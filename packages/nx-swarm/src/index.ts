export * from './lib/go/cross-build-plan';
