import { createContext, useContext } from "react";
import { useQuery } from "@tanstack/react-query";
import type { QueryKey } from "@tanstack/react-query";
import type { ChronicleClient, CommandError } from "./types";
import { isCommandError, bridgeError } from "../result";

export const ClientContext = createContext<ChronicleClient | null>(null);
export const IdentityContext = createContext<string | null>(null);

export function useClient(): ChronicleClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("no ChronicleClient provided");
  return client;
}

/** Who the UI views as (null: nobody chosen). */
export function useIdentity(): string | null {
  return useContext(IdentityContext);
}

export function asCommandError(reason: unknown): CommandError {
  return isCommandError(reason) ? reason : bridgeError(reason);
}

/**
 * A cached read as the current identity: the identity is part of the key, so switching
 * identity never shows another user's data. Disabled while nobody is chosen.
 */
export function useData<T>(key: QueryKey, load: (client: ChronicleClient) => Promise<T>, enabled = true) {
  const client = useClient();
  const identity = useIdentity();
  return useQuery<T, CommandError>({
    queryKey: ["as", identity, ...key],
    queryFn: async () => {
      try {
        return await load(client);
      } catch (reason) {
        throw asCommandError(reason);
      }
    },
    enabled: enabled && identity !== null,
    retry: false,
  });
}
