import "./locale-guard";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { isTauri } from "@tauri-apps/api/core";
import { App } from "./App";
import { ClientContext } from "./client/context";
import { createHttpClient } from "./client/http";
import { createTauriClient } from "./client/tauri";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
// One UI, two transports: the desktop window's commands, or the served console's HTTP API.
const client = isTauri() ? createTauriClient() : createHttpClient();
// Live events say when data changed, so nothing refetches on a timer or on focus.
const queries = new QueryClient({
  defaultOptions: { queries: { staleTime: Infinity, refetchOnWindowFocus: false } },
});
createRoot(root).render(
  <StrictMode>
    <ClientContext.Provider value={client}>
      <QueryClientProvider client={queries}>
        <App />
      </QueryClientProvider>
    </ClientContext.Provider>
  </StrictMode>,
);
