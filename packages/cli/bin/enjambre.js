#!/usr/bin/env node
// The compiled CLI (`npm run build`, which `npm ci` runs). From the TypeScript sources instead:
// node --conditions=@enjambre/source --import tsx packages/cli/src/main.ts
import '../dist/main.js';
