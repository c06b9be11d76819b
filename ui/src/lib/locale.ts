/**
 * A language tag `Intl` accepts: `tag` itself when it is valid, else `fallback`.
 *
 * WebKitGTK derives `navigator.language` from the POSIX locale and turns `C.UTF-8` (the
 * default of containers, CI machines and minimal installs) into "C", which `Intl` rejects
 * with "invalid language tag". Libraries that build a formatter when they load (uPlot does)
 * then throw before the first render and the window stays blank.
 */
export function usableLanguage(tag: string | undefined, fallback = "en-US"): string {
  if (!tag) return fallback;
  try {
    Intl.getCanonicalLocales(tag);
    return tag;
  } catch {
    return fallback;
  }
}
