import { useQuery } from "@tanstack/react-query";
import type { CommandError } from "./bindings";
import { bridgeError, isCommandError } from "./result";

/** A cached load keyed by `key`; live updates invalidate keys to reload what changed. */
export function useLoad<T>(load: () => Promise<T>, key: readonly unknown[]) {
  const query = useQuery<T, CommandError>({
    queryKey: key,
    queryFn: async () => {
      try {
        return await load();
      } catch (reason) {
        throw isCommandError(reason) ? reason : bridgeError(reason);
      }
    },
    retry: false,
  });
  return {
    data: query.data ?? null,
    error: query.error ?? null,
    loading: query.isPending,
    reload: () => void query.refetch(),
  };
}
