import { describe, expect, it } from "vitest";
import { agentName, fileSize, teamChoices, teamName, teamNames } from "./format";

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

describe("teamName", () => {
  const teams = [
    { id: "returns", name: "Returns & exchanges" },
    { id: "vip", name: "VIP desk" },
  ];
  it("names a team by the name the desk gave it", () => {
    expect(teamName(teams, "returns")).toBe("Returns & exchanges");
  });
  it("falls back to the id for a team not in the list (one only the routing settings name, or the list not loaded)", () => {
    expect(teamName(teams, "default")).toBe("default");
    expect(teamName([], "vip")).toBe("vip");
  });
  it("names several teams in one line, in their order", () => {
    expect(teamNames(teams, ["vip", "default", "returns"])).toBe("VIP desk, default, Returns & exchanges");
    expect(teamNames(teams, [])).toBe("");
  });
});

describe("teamChoices", () => {
  const teams = [
    { id: "returns", name: "Returns & exchanges" },
    { id: "vip", name: "VIP desk" },
  ];
  it("offers the desk's teams, and keeps a chosen one it does not list, under its id", () => {
    expect(teamChoices(teams, ["vip"])).toEqual(teams);
    expect(teamChoices(teams, ["legacy", "legacy"])).toEqual([...teams, { id: "legacy", name: "legacy" }]);
    expect(teamChoices([], ["default"])).toEqual([{ id: "default", name: "default" }]);
  });
});
