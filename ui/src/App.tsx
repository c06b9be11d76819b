import { lazy, Suspense, useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Redirect, Route, Router, Switch } from "wouter";
import type { Theme } from "./bindings";
import type { CommandError } from "./client/types";
import { asCommandError, IdentityContext, useClient, useIdentity } from "./client/context";
import { ErrorView } from "./ErrorView";
import { useNoteOpenedPractice, usePractices } from "./hooks";
import { enc, practiceInPath, useHashPath, useHashSearch } from "./router";
import { AggregateTimeline, EventRedirect } from "./screens/AggregateTimeline";
import { Aggregates } from "./screens/Aggregates";
import { Checkpoints } from "./screens/Checkpoints";
import { Generate } from "./screens/Generate";
import { Overview } from "./screens/Overview";
import { Practices } from "./screens/Practices";
import { Registry } from "./screens/Registry";
import { DemoOffer, StoreScreen } from "./screens/Store";
import { Timeline } from "./screens/Timeline";
import { Verify } from "./screens/Verify";

// The form generator (RJSF and the schema validator) is loaded when a form is first opened,
// not with every screen.
const NewEvent = lazy(() => import("./screens/NewEvent").then((m) => ({ default: m.NewEvent })));

function NewEventScreen(props: { params: { pid?: string } }) {
  return (
    <Suspense fallback={<p className="muted">Loading the form…</p>}>
      <NewEvent {...props} />
    </Suspense>
  );
}

/** The whole UI: header (identity, theme), the acting-as banner, and the routed screens. */
export function App() {
  const client = useClient();
  const queries = useQueryClient();
  const identity = useQuery({ queryKey: ["identity"], queryFn: () => client.identity(), retry: false });
  const theme = useQuery({ queryKey: ["theme"], queryFn: () => client.theme(), retry: false });

  useEffect(() => {
    document.documentElement.dataset.theme = theme.data ?? "system";
  }, [theme.data]);

  useEffect(
    () =>
      client.desktop?.onStoreChanged(() => {
        void queries.invalidateQueries();
      }),
    [client, queries],
  );

  if (identity.isPending) return <p className="muted">Starting…</p>;
  return (
    <IdentityContext.Provider value={identity.data ?? null}>
      <Router hook={useHashPath} searchHook={useHashSearch} hrefs={(h) => `#${h}`}>
        <div className="app">
          <Header
            onTheme={async (t) => {
              await client.setTheme(t);
              await queries.invalidateQueries({ queryKey: ["theme"] });
            }}
            theme={theme.data ?? "system"}
          />
          <Banner />
          {identity.error && <ErrorView error={asCommandError(identity.error)} />}
          {client.desktop && <DemoOffer />}
          <main className="main">
            <Switch>
              <Route path="/" component={Practices} />
              <Route path="/registry" component={Registry} />
              <Route path="/registry/:type" component={Registry} />
              <Route path="/store" component={StoreScreen} />
              <Route path="/verify" component={Verify} />
              <Route path="/p/:pid" component={Overview} />
              <Route path="/p/:pid/aggregates" component={Aggregates} />
              <Route path="/p/:pid/a/:type/:id" component={AggregateTimeline} />
              <Route path="/p/:pid/e/:eventId" component={EventRedirect} />
              <Route path="/p/:pid/events" component={Timeline} />
              <Route path="/p/:pid/checkpoints" component={Checkpoints} />
              <Route path="/p/:pid/new" component={NewEventScreen} />
              {/* From the registry with no practice opened yet: the form asks for one. */}
              <Route path="/new" component={NewEventScreen} />
              <Route path="/p/:pid/generate" component={Generate} />
              <Route>
                <Redirect to="/" replace />
              </Route>
            </Switch>
          </main>
        </div>
      </Router>
    </IdentityContext.Provider>
  );
}

function Header(props: { theme: Theme; onTheme: (t: Theme) => Promise<void> }) {
  const client = useClient();
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        Chronicle
      </Link>
      <nav className="global">
        <Link href="/" data-testid="nav-practices">
          Practices
        </Link>
        <Link href="/registry" data-testid="nav-registry">
          Registry
        </Link>
        <Link href="/verify" data-testid="nav-verify">
          Verify
        </Link>
        {client.desktop && (
          <Link href="/store" data-testid="nav-store">
            Store
          </Link>
        )}
      </nav>
      <IdentityPicker />
      <select
        aria-label="Theme"
        data-testid="theme-select"
        value={props.theme}
        onChange={(e) => void props.onTheme(e.target.value as Theme)}
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </header>
  );
}

function IdentityPicker() {
  const client = useClient();
  const queries = useQueryClient();
  const current = useIdentity();
  const [text, setText] = useState(current ?? "");
  const [error, setError] = useState<CommandError | null>(null);
  // Who the web console suggests depends on who is asking; the desktop suggests everyone.
  const suggestions = useQuery({ queryKey: ["as", current, "suggested"], queryFn: () => client.suggestedIdentities(), retry: false });
  const pick = async () => {
    try {
      await client.setIdentity(text.trim() === "" ? null : text.trim());
      setError(null);
      // Someone else's view: drop what the previous identity saw rather than show it stale.
      queries.removeQueries({ queryKey: ["as"] });
      await queries.invalidateQueries({ queryKey: ["identity"] });
    } catch (reason) {
      setError(asCommandError(reason));
    }
  };
  return (
    <form
      className="identity"
      onSubmit={(e) => {
        e.preventDefault();
        void pick();
      }}
    >
      <label htmlFor="identity">View as</label>
      <input
        id="identity"
        data-testid="identity-input"
        list="identity-suggestions"
        placeholder="user id, e.g. olivia.owner"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <datalist id="identity-suggestions">
        {(suggestions.data ?? []).map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit" data-testid="identity-apply">
        Apply
      </button>
      {error && <ErrorView error={error} />}
    </form>
  );
}

/** Who you are acting as, and in which practice — always visible. */
function Banner() {
  const identity = useIdentity();
  const [path] = useHashPath();
  const pid = practiceInPath(path);
  useNoteOpenedPractice(pid);
  const practices = usePractices();
  const practice = practices.list?.find((p) => p.practiceId === pid);
  return (
    <div className="banner" data-testid="acting-as">
      {identity ? (
        <>
          Viewing as <strong>{identity}</strong>
          {pid && (
            <>
              {" "}
              in <strong data-testid="banner-practice">{practice?.name ?? pid}</strong>
              {practice && <span className="role"> ({practice.role ?? "system"})</span>}
            </>
          )}
        </>
      ) : (
        "Choose who to view as to see their practices."
      )}
      {pid && <PracticeNav pid={pid} path={path} />}
    </div>
  );
}

function PracticeNav({ pid, path }: { pid: string; path: string }) {
  const base = `/p/${enc(pid)}`;
  const tab = (to: string, label: string, testid: string, active: boolean) => (
    <Link href={to} data-testid={testid} className={active ? "tab active" : "tab"}>
      {label}
    </Link>
  );
  return (
    <nav className="tabs">
      {tab(base, "Overview", "nav-overview", path === base)}
      {tab(`${base}/aggregates`, "Aggregates", "nav-aggregates", path.startsWith(`${base}/a`))}
      {tab(`${base}/events`, "Timeline", "nav-timeline", path.startsWith(`${base}/events`))}
      {tab(`${base}/checkpoints`, "Checkpoints", "nav-checkpoints", path.startsWith(`${base}/checkpoints`))}
      {tab(`${base}/new`, "New event", "nav-new-event", path.startsWith(`${base}/new`))}
      {tab(`${base}/generate`, "Generate", "nav-generate", path.startsWith(`${base}/generate`))}
    </nav>
  );
}
