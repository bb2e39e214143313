import { describe, expect, it } from "vitest";
import { identityKind } from "./channels";
import { translator } from "./i18n";

describe("identityKind", () => {
  it("says phone and email in the agent's language, other identities by their channel's name", () => {
    expect(identityKind("phone", translator("es"))).toBe("teléfono");
    expect(identityKind("email", translator("pt"))).toBe("e-mail");
    expect(identityKind("messenger", translator("es"))).toBe("Messenger");
    expect(identityKind("carrier_pigeon", translator("en"))).toBe("carrier_pigeon");
  });
});
