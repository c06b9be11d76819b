// Hash-based URLs (`#/p/ID/events?actorType=ai`): the path and its query both live in the hash,
// so deep links work the same in the Tauri window and in the served console.
import { useCallback, useSyncExternalStore } from "react";

function hashParts(): [string, string] {
  const hash = location.hash.replace(/^#/, "");
  const q = hash.indexOf("?");
  const path = q === -1 ? hash : hash.slice(0, q);
  return [path.startsWith("/") ? path : `/${path}`, q === -1 ? "" : hash.slice(q + 1)];
}

const subscribe = (callback: () => void) => {
  addEventListener("hashchange", callback);
  return () => removeEventListener("hashchange", callback);
};

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const target = `#${to.startsWith("/") ? to : `/${to}`}`;
  if (options.replace) {
    const oldURL = location.href;
    history.replaceState(history.state, "", target);
    dispatchEvent(new HashChangeEvent("hashchange", { oldURL, newURL: location.href }));
  } else {
    location.hash = target;
  }
}

/** wouter's location hook: [path without query, navigate]. */
export function useHashPath(): [string, (to: string, options?: { replace?: boolean }) => void] {
  return [useSyncExternalStore(subscribe, () => hashParts()[0]), navigate];
}

/** wouter's search hook: the query part of the hash. */
export function useHashSearch(): string {
  return useSyncExternalStore(subscribe, () => hashParts()[1]);
}

/** The hash query as a read-only map, and a setter that keeps the path. */
export function useParams(): [URLSearchParams, (next: Record<string, string | null | undefined>, replace?: boolean) => void] {
  const search = useHashSearch();
  const set = useCallback((next: Record<string, string | null | undefined>, replace = false) => {
    const [path, current] = hashParts();
    const params = new URLSearchParams(current);
    for (const [key, value] of Object.entries(next)) {
      if (value === null || value === undefined || value === "") params.delete(key);
      else params.set(key, value);
    }
    const qs = params.toString();
    navigate(`${path}${qs ? `?${qs}` : ""}`, { replace });
  }, []);
  return [new URLSearchParams(search), set];
}

/** The practice a path is in (`/p/ID/…`), or null for the screens of no practice. */
export function practiceInPath(path: string): string | null {
  const practiceId = /^\/p\/([^/]+)/.exec(path)?.[1];
  return practiceId ? decodeURIComponent(practiceId) : null;
}

/** Builds `path?query` leaving out empty values. */
export function href(path: string, query: Record<string, string | number | null | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${path}${qs ? `?${qs}` : ""}`;
}

export const enc = encodeURIComponent;
