// The bot's reason to hand over, as the assist panel and the conversation's header show it.
import { describe, expect, it } from "vitest";
import { translator } from "../i18n";
import { handoffReason } from "./TryBot";

describe("handoffReason", () => {
  it("says a known reason in the agent's language", () => {
    expect(handoffReason(translator("en"), "low_confidence")).toBe("no article is sure enough");
    expect(handoffReason(translator("es"), "low_confidence")).toBe("ningún artículo es lo bastante seguro");
  });

  it("names an unknown reason as the API does, without underscores", () => {
    expect(handoffReason(translator("pt"), "brand_new_reason")).toBe("brand new reason");
  });
});
