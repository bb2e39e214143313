import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RoutingSettings } from "./api";
import {
  routingErrorAt,
  routingForm,
  routingFromForm,
  routedTeams,
  SHIPPED_ACKNOWLEDGEMENTS,
  templateRefusal,
} from "./routingSettings";

const stored: RoutingSettings = {
  sticky_days: 7,
  offline_grace_seconds: 300,
  reassign_after_silence_seconds: null,
  default_team: "default",
  team_by_channel: { whatsapp: "returns" },
  team_by_label: { vip: "vip-desk" },
  reassign_on_breach: false,
  acknowledgements: true,
  acknowledgement_burst_seconds: 600,
  acknowledgement_templates: { es: { open_now: "Hola {name}, te respondemos {eta}." } },
  average_handle_seconds: 600,
  default_language: "en",
  transcript_on_resolve: false,
  shop_name: "Acme",
  skill_keywords: { returns: ["refund", "return"] },
  priority_on_negative: "high",
  priority_on_urgent: "urgent",
};

describe("the routing settings' form", () => {
  it("shows times in minutes and maps as rows, and gives back the same settings", () => {
    const form = routingForm(stored);
    expect(form.burst_minutes).toBe("10");
    expect(form.offline_grace_minutes).toBe("5");
    expect(form.silence_minutes).toBe("");
    expect(form.handle_minutes).toBe("10");
    expect(form.team_by_label).toEqual([{ label: "vip", team: "vip-desk" }]);
    expect(form.skill_keywords).toEqual([{ skill: "returns", words: "refund, return" }]);
    expect(routingFromForm(form)).toEqual(stored);
  });

  it("leaves out a channel on the default team, empty rows and texts left empty (the shipped ones)", () => {
    const form = routingForm(stored);
    const body = routingFromForm({
      ...form,
      team_by_channel: { whatsapp: "", sms: "returns" },
      team_by_label: [...form.team_by_label, { label: " ", team: "returns" }],
      templates: { es: { open_now: "  " }, pt: { after_hours: "Olá {name}, {eta}" } },
      skill_keywords: [{ skill: "returns", words: "refund, , devolução " }, { skill: "", words: "x" }],
      silence_minutes: "90",
      handle_minutes: "0.5",
    });
    expect(body.team_by_channel).toEqual({ sms: "returns" });
    expect(body.team_by_label).toEqual({ vip: "vip-desk" });
    expect(body.acknowledgement_templates).toEqual({ pt: { after_hours: "Olá {name}, {eta}" } });
    expect(body.skill_keywords).toEqual({ returns: ["refund", "devolução"] });
    expect(body.reassign_after_silence_seconds).toBe(5400);
    expect(body.average_handle_seconds).toBe(30);
  });

  it("places a refusal at its row", () => {
    expect(routingErrorAt("team_by_channel.whatsapp")).toBe("team_by_channel.whatsapp");
    expect(routingErrorAt("team_by_channel.whatsap.[key]")).toBe("team_by_channel.whatsap");
    expect(routingErrorAt("team_by_label.vip")).toBe("team_by_label.vip");
    expect(routingErrorAt("skill_keywords.returns.0")).toBe("skill_keywords.returns");
    expect(routingErrorAt("default_team")).toBe("default_team");
    expect(routingErrorAt("acknowledgement_templates.es.open_now")).toBe("acknowledgement_templates.es.open_now");
    expect(routingErrorAt("something_else")).toBe("");
    expect(templateRefusal("acknowledgement_templates: template overrides: es/open_now: the template must say when we will answer: add {eta}"))
      .toEqual({ path: "acknowledgement_templates.es.open_now", message: "the template must say when we will answer: add {eta}" });
    expect(templateRefusal("sticky_days: too many")).toBeNull();
  });

  it("names the teams the settings send conversations to", () => {
    expect(routedTeams(stored)).toEqual(["default", "returns", "vip-desk"]);
  });

  it("shows the texts shopdesk ships, as the back end has them", () => {
    const path = new URL("../../layers/shopdesk/shopdesk/templates/acknowledgements.json", import.meta.url);
    const shipped = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    delete shipped._comment;
    expect(SHIPPED_ACKNOWLEDGEMENTS).toEqual(shipped);
  });
});
