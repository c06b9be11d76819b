// Imported first by main.tsx, so it runs before any library reads navigator.language.
import { usableLanguage } from "./lib/locale";

const language = usableLanguage(navigator.language);
if (language !== navigator.language) {
  Object.defineProperty(navigator, "language", { value: language, configurable: true });
  Object.defineProperty(navigator, "languages", { value: [language], configurable: true });
}
