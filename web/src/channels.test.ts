import { describe, expect, it } from "vitest";
import { channelName, identityKind } from "./channels";
import { translator } from "./i18n";

describe("identityKind", () => {
  it("says phone and email in the agent's language, other identities by their channel's name", () => {
    expect(identityKind("phone", translator("es"))).toBe("teléfono");
    expect(identityKind("email", translator("pt"))).toBe("e-mail");
    expect(identityKind("messenger", translator("es"))).toBe("Messenger");
    expect(identityKind("carrier_pigeon", translator("en"))).toBe("carrier_pigeon");
  });
});

describe("channelName", () => {
  it("says email and web chat in the agent's language, and brands as they are", () => {
    expect(channelName("email", translator("en"))).toBe("Email");
    expect(channelName("webchat", translator("es"))).toBe("Chat web");
    expect(channelName("email", translator("pt"))).toBe("E-mail");
    expect(channelName("webchat", translator("pt"))).toBe("Chat do site");
    expect(channelName("whatsapp", translator("es"))).toBe("WhatsApp");
    expect(channelName("sms", translator("pt"))).toBe("SMS");
  });
  it("shows a channel it does not know by its id, and nothing for none", () => {
    expect(channelName("carrier_pigeon", translator("es"))).toBe("carrier_pigeon");
    expect(channelName(null, translator("en"))).toBe("");
  });
});
