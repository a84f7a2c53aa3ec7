import { initCrypto } from '../main/core/crypto/index.js';
import { fastPathActive } from '../main/core/crypto/fast.js';
await initCrypto(); console.log('fast path', fastPathActive());
