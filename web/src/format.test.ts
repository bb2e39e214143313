import { describe, expect, it } from "vitest";
import { agentName, fileSize } from "./format";

describe("fileSize", () => {
  it("says sizes in the decimal units the providers' limits use", () => {
    expect(fileSize(820)).toBe("820 B");
    expect(fileSize(48_213)).toBe("48 KB");
    expect(fileSize(500_000)).toBe("500 KB");
    expect(fileSize(1_200_000)).toBe("1.2 MB");
    expect(fileSize(5_000_000)).toBe("5 MB");
  });
});

describe("agentName", () => {
  const agents = [
    { id: "alice", name: "Alice Example" },
    { id: "bob", name: null },
  ];
  it("names an agent the desk has a name for", () => {
    expect(agentName(agents, "alice")).toBe("Alice Example");
  });
  it("falls back to the id for an agent without a name or not in the list", () => {
    expect(agentName(agents, "bob")).toBe("bob");
    expect(agentName(agents, "carol")).toBe("carol");
    expect(agentName([], "alice")).toBe("alice");
  });
});
