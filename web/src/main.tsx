import { render } from "preact";
import { App } from "./components/App";
import { Auth } from "./auth";
import { loadConfig } from "./config";
import "./styles.css";

async function boot(): Promise<void> {
  const root = document.getElementById("app")!;
  try {
    const config = await loadConfig();
    const auth = new Auth(config);
    if (config.auth.mode === "cognito" && window.location.search.includes("code=")) {
      await auth.completeCognito(window.location.search);
      window.history.replaceState(null, "", window.location.pathname);
    }
    render(<App config={config} auth={auth} />, root);
  } catch (error) {
    root.textContent = `The inbox could not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

void boot();
