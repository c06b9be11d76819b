import { useEffect, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useClient, useData, useIdentity } from "./client/context";
import type { PracticeSummary } from "./client/types";

export type Practice = PracticeSummary & { name: string | null };

/**
 * The identity's practices with their names (directory), recent ones first. `current` is the
 * one opened last that the identity may still read: where a screen of no practice (the
 * registry's New event) acts; null when there is none, undefined while loading.
 */
export function usePractices() {
  const summaries = useData(["practices"], (c) => c.practices());
  const directory = useData(["directory"], (c) => c.practiceDirectory());
  const recent = useData(["recent"], (c) => c.recentPractices());
  const names = new Map((directory.data ?? []).map((l) => [l.practiceId, l.name]));
  const order = new Map((recent.data ?? []).map((id, i) => [id, i]));
  const list: Practice[] | undefined = summaries.data
    ?.map((p) => ({ ...p, name: names.get(p.practiceId) ?? null }))
    .sort((a, b) => (order.get(a.practiceId) ?? 99) - (order.get(b.practiceId) ?? 99) || (a.name ?? a.practiceId).localeCompare(b.name ?? b.practiceId));
  const current = list === undefined || recent.isPending ? undefined : (list.find((p) => order.has(p.practiceId)) ?? null);
  return { list, current, error: summaries.error, loading: summaries.isPending && summaries.fetchStatus !== "idle", recent: recent.data ?? [], refetch: summaries.refetch };
}

/**
 * Puts the practice the app is in first among the recent ones, however it was reached (the
 * practices list, a tab, a deep link), so that screens of no practice know the last one.
 */
export function useNoteOpenedPractice(practiceId: string | null) {
  const client = useClient();
  const queries = useQueryClient();
  const identity = useIdentity();
  useEffect(() => {
    if (practiceId === null || identity === null) return;
    client
      .notePracticeOpened(practiceId)
      // The recent list is cached for good (staleTime Infinity): read it again.
      .then(() => queries.invalidateQueries({ queryKey: ["as", identity, "recent"] }))
      // Remembering is a convenience: if it fails, the list stays as it was.
      .catch(() => {});
  }, [client, queries, identity, practiceId]);
}

/**
 * Live tail of a practice: calls `onNew` for appends while not paused; while paused, counts
 * how many events arrived. Resuming calls `onNew` once to catch up.
 */
export function useLiveTail(practiceId: string, onNew: () => void) {
  const client = useClient();
  const [paused, setPaused] = useState(false);
  const [pending, setPending] = useState(0);
  const pausedRef = useRef(paused);
  const onNewRef = useRef(onNew);
  const lastHead = useRef<number | null>(null);
  useEffect(() => {
    onNewRef.current = onNew;
  });
  useEffect(() => {
    pausedRef.current = paused;
  }, [paused]);
  useEffect(
    () =>
      client.onAppended(practiceId, (update) => {
        const delta = lastHead.current === null ? 1 : Math.max(0, update.headSeq - lastHead.current);
        lastHead.current = Math.max(lastHead.current ?? 0, update.headSeq);
        if (pausedRef.current) setPending((n) => n + delta);
        else onNewRef.current();
      }),
    [client, practiceId],
  );
  const toggle = () => {
    if (paused) {
      setPending(0);
      onNewRef.current();
    }
    setPaused(!paused);
  };
  return { paused, pending, toggle };
}
