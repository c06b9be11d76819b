import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { asCommandError, useClient } from "../client/context";
import type { CommandError } from "../client/types";
import { ErrorView } from "../ErrorView";

function useStoreInfo() {
  const client = useClient();
  return useQuery({
    queryKey: ["store-info"],
    enabled: client.desktop !== undefined,
    retry: false,
    queryFn: async () => {
      try {
        return await client.desktop!.storeInfo();
      } catch (reason) {
        throw asCommandError(reason);
      }
    },
  });
}

/** Desktop, first run: the store is empty; offer the demo data. */
export function DemoOffer() {
  const client = useClient();
  const queries = useQueryClient();
  const info = useStoreInfo();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  if (!client.desktop) return null;
  if (info.error) return <ErrorView title="The store could not be read" error={asCommandError(info.error)} />;
  return (
    <>
      {info.data?.startupError && (
        <ErrorView title="The saved store could not be opened; the embedded store is open instead" error={info.data.startupError} />
      )}
      {info.data?.isEmpty && (
        <div className="offer" data-testid="demo-offer">
          <p>This store is empty. Load demo data (three dental practices) to have something to inspect?</p>
          <button
            type="button"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await client.desktop!.seedDemo();
                await queries.invalidateQueries();
              } catch (reason) {
                setError(asCommandError(reason));
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? "Loading demo data…" : "Load demo data"}
          </button>
          {error && <ErrorView error={error} />}
        </div>
      )}
    </>
  );
}

/** Desktop: the open store and where to open another (the old one stays open if that fails). */
export function StoreScreen() {
  const client = useClient();
  const queries = useQueryClient();
  const info = useStoreInfo();
  const [location, setLocation] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<CommandError | null>(null);
  const [saved, setSaved] = useState(false);
  if (!client.desktop)
    return (
      <section className="screen">
        <h2>Store</h2>
        <p className="muted">The web console reads the store of the server it is served by.</p>
      </section>
    );
  return (
    <section className="screen" data-testid="store-screen">
      <h2>Store</h2>
      {info.data && (
        <dl className="facts" data-testid="store-info">
          <dt>backend</dt>
          <dd>{info.data.backend}</dd>
          <dt>location</dt>
          <dd className="mono" data-testid="store-location">
            {info.data.location}
          </dd>
          <dt>events</dt>
          <dd>{info.data.isEmpty ? "none yet" : "some"}</dd>
        </dl>
      )}
      <form
        className="store-form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await client.desktop!.setStoreLocation(location.trim() === "" ? null : location.trim(), password === "" ? null : password);
            setError(null);
            setSaved(true);
            setPassword("");
            await queries.invalidateQueries();
          } catch (reason) {
            setSaved(false);
            setError(asCommandError(reason));
          }
        }}
      >
        <label>
          Location (empty: the embedded store)
          <input
            data-testid="store-location-input"
            placeholder="sqlite:///path/to/file.db or postgres://user@host/db"
            value={location}
            onChange={(e) => setLocation(e.target.value)}
          />
        </label>
        <label>
          PostgreSQL password (kept for this session only, never saved)
          <input type="password" data-testid="store-password-input" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" data-testid="store-open">
          Open
        </button>
        {saved && <span className="muted">Opened.</span>}
        {error && <ErrorView title="That store could not be opened; the old one stays open" error={error} />}
      </form>
    </section>
  );
}
