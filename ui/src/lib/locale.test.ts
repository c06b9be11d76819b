import { describe, expect, it } from "vitest";
import { usableLanguage } from "./locale";

describe("usableLanguage", () => {
  it("keeps a valid tag", () => {
    expect(usableLanguage("de-CH")).toBe("de-CH");
    expect(usableLanguage("en")).toBe("en");
  });

  it("replaces what WebKitGTK reports under a C.UTF-8 locale, and nothing at all", () => {
    expect(() => new Intl.NumberFormat("C")).toThrow(RangeError);
    expect(usableLanguage("C")).toBe("en-US");
    expect(usableLanguage("")).toBe("en-US");
    expect(usableLanguage(undefined, "fr-FR")).toBe("fr-FR");
  });
});
