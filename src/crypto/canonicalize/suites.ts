// The two Data Integrity suites Lanyard signs with, canonizing through the template cache instead of jsonld.js alone.
import { Ed25519Signature2020 } from '@digitalcredentials/ed25519-signature-2020'
import { cryptosuite } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite'
import { verify } from 'node:crypto'
import * as Ed25519Multikey from '@digitalcredentials/ed25519-multikey'
import { documentLoader } from '../document-loader.js'
import { publicKeyObject } from '../ed25519.js'
import { Lru } from '../../lru.js'
import { canonize, defaultCanonizer } from './index.js'

// Canonicalization reads contexts from the bundled loader, whatever loader the suite was handed: jsonld-signatures wraps
// the caller's loader in a new function per use, and verification adds key documents to it, while the shape cache is
// kept per loader. Every context Lanyard accepts is bundled, and a key document is never a context.
type CanonizeOptions = Record<string, unknown>
const withBundledContexts = (options: CanonizeOptions = {}) => ({ ...options, documentLoader })

interface VerificationMethod {
  id: string
  type: string
  controller: string
  publicKeyMultibase: string
}

/** Verifiers by key: the library makes a node:crypto key object from the raw bytes on every verification (~0.4 ms). */
const verifiers = new Lru<string, { algorithm: string; id: string; verify(input: { data: Uint8Array; signature: Uint8Array }): Promise<boolean> }>(1000)

/** The cryptosuite's createVerifier, the same checks (Ed25519Multikey.from) on first use of a key, then its key object kept. */
async function createVerifier({ verificationMethod }: { verificationMethod: VerificationMethod }) {
  const { id, type, controller, publicKeyMultibase } = verificationMethod
  const cacheKey = JSON.stringify([id, type, controller, publicKeyMultibase])
  const known = verifiers.get(cacheKey)
  if (known !== undefined) return known
  const { publicKey } = await Ed25519Multikey.from(verificationMethod)
  const key = publicKeyObject(publicKey)
  const verifier = { algorithm: 'Ed25519', id, verify: async ({ data, signature }: { data: Uint8Array; signature: Uint8Array }) => verify(null, data, key, signature) }
  verifiers.set(cacheKey, verifier)
  return verifier
}

/** eddsa-rdfc-2022, identical to the library's cryptosuite but for its canonize step and its verifier's key object. */
export const cachedEddsaRdfc2022 = {
  ...cryptosuite,
  canonize: (input: unknown, options?: CanonizeOptions) => canonize(input, withBundledContexts(options)),
  createVerifier
}

/** The suite's own constructor options, as LinkedDataSignature stores them. */
interface SuiteInternals {
  useNativeCanonize?: boolean
  canonizeOptions?: object
}

// The library class is declared without canonize (src/types): describe the part of its prototype we override.
const Base = Ed25519Signature2020 as unknown as new (...args: ConstructorParameters<typeof Ed25519Signature2020>) =>
  Ed25519Signature2020 & { canonize(input: unknown, options: CanonizeOptions): Promise<string> }

/** Ed25519Signature2020 whose document and proof canonicalization (URDNA2015) goes through the template cache. */
export class CachedEd25519Signature2020 extends Base {
  override async canonize(input: unknown, options: CanonizeOptions): Promise<string> {
    const library = () => super.canonize(input, withBundledContexts(options))
    const { useNativeCanonize, canonizeOptions } = this as SuiteInternals
    // Native canonize and extra canonizeOptions change what jsonld.canonize does: leave those to it.
    if (useNativeCanonize || (canonizeOptions !== undefined && Object.keys(canonizeOptions).length > 0)) {
      defaultCanonizer.countFallback('unsupported-options')
      return library()
    }
    return defaultCanonizer.canonizeUrdna2015(input, withBundledContexts(options), library)
  }
}
