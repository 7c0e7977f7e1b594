import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Custos's optional native addons (`packages/custos/native/<name>.c`, built by `scripts/build-native.mjs`). */
export type NativeAddonName = 'envelope' | 'merkle';

/** What the build script records next to an addon: what it was built from and for. */
export interface NativeAddonStamp {
  readonly source?: string;
  readonly modules?: string;
  readonly openssl?: string;
  readonly platform?: string;
}

/**
 * Why a built addon must not be loaded by this process (built from another `<name>.c`, or for
 * another Node ABI, OpenSSL or platform), or undefined when its stamp matches.
 */
export function nativeStampProblem(
  stamp: NativeAddonStamp,
  sourceSha256: string,
  name: NativeAddonName = 'envelope',
): string | undefined {
  if (stamp.source !== sourceSha256) return `built from another ${name}.c`;
  if (stamp.modules !== process.versions.modules) return 'built for another Node ABI';
  if (stamp.openssl !== process.versions.openssl) return 'built for another OpenSSL';
  if (stamp.platform !== `${process.platform}-${process.arch}`) return 'built for another platform';
  return undefined;
}

/** True when the addon may be used: `CUSTOS_NATIVE` and `CUSTOS_NATIVE_<NAME>` are not `0`. */
export function nativeAddonWanted(name: NativeAddonName): boolean {
  return process.env.CUSTOS_NATIVE !== '0' && process.env[`CUSTOS_NATIVE_${name.toUpperCase()}`] !== '0';
}

/**
 * Loads a native addon when it was built (by `npm ci`) from this source for this Node and is not
 * switched off, and keeps it only if `selfCheck` passes: the addon must give the portable code's
 * answers. A built addon that is refused is reported as a process warning naming `fallback`;
 * one that was never built is silently not used. Undefined means: use the portable code.
 */
export function loadNativeAddon<T>(
  name: NativeAddonName,
  selfCheck: (addon: T) => boolean,
  fallback: string,
): T | undefined {
  if (!nativeAddonWanted(name)) return undefined;
  const dir = new URL('../../native/', import.meta.url);
  let stamp: NativeAddonStamp;
  try {
    stamp = JSON.parse(readFileSync(new URL(`build/custos_${name}.json`, dir), 'utf8')) as NativeAddonStamp;
  } catch {
    return undefined; // not built
  }
  const refuse = (why: string): undefined => {
    process.emitWarning(`native ${name} not used (${why}); ${fallback}`);
    return undefined;
  };
  try {
    const source = createHash('sha256')
      .update(readFileSync(new URL(`${name}.c`, dir)))
      .digest('hex');
    const problem = nativeStampProblem(stamp, source, name);
    if (problem !== undefined) return refuse(`${problem}: run npm ci again`);
    const addon = createRequire(import.meta.url)(
      fileURLToPath(new URL(`build/custos_${name}.node`, dir)),
    ) as T;
    return selfCheck(addon) ? addon : refuse('it failed its self-check against the portable code');
  } catch (err) {
    return refuse(`it does not load: ${(err as Error).message}`);
  }
}
