import { describe, expect, it } from "vitest";
import { agentName, agentNamer, fileSize, teamChoices, teamName, teamNames } from "./format";

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
    { id: "u_7f3a", name: "   " },
    { id: "dora", name: "", email: "dora@shop.example" },
  ];
  it("names an agent the desk has a name for", () => {
    expect(agentName(agents, "alice", "Unnamed agent")).toBe("Alice Example");
  });
  it("says an agent with no name or a blank one by their email, else as unnamed: never by their id", () => {
    expect(agentName(agents, "bob", "Unnamed agent")).toBe("Unnamed agent");
    expect(agentName(agents, "u_7f3a", "Agente sem nome")).toBe("Agente sem nome");
    expect(agentName(agents, "dora", "Unnamed agent")).toBe("dora@shop.example");
  });
  it("keeps the id of one the desk does not list (a system actor, the list not loaded)", () => {
    expect(agentName(agents, "carol", "Unnamed agent")).toBe("carol");
    expect(agentName([], "alice", "Unnamed agent")).toBe("alice");
  });
});

describe("agentNamer", () => {
  it("reads every record of the agent for a name, then an email: the desk's has none, their sign-in an email", () => {
    const name = agentNamer([{ id: "u_1", name: null }], { id: "u_1", name: " " }, { id: "u_1", name: "", email: "ana@shop.example" }, "Unnamed agent");
    expect(name("u_1")).toBe("ana@shop.example");
  });
  it("names colleagues with no name by the work email the desk lists for each (GET /agent/agents): two read apart", () => {
    const name = agentNamer([{ id: "u_1", name: null, email: "ana@shop.example" }, { id: "u_2", name: "", email: "ben@shop.example" }], null, null, "Unnamed agent");
    expect([name("u_1"), name("u_2")]).toEqual(["ana@shop.example", "ben@shop.example"]);
  });
  it("says unnamed for one known with neither, and nothing (null) for one it does not know", () => {
    const name = agentNamer([{ id: "u_1", name: null }], null, { id: "alice", name: "Alice Example" }, "Unnamed agent");
    expect(name("u_1")).toBe("Unnamed agent");
    expect(name("alice")).toBe("Alice Example");
    expect(name("u_2")).toBeNull();
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
