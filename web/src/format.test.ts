import { describe, expect, it } from "vitest";
import { fileSize } from "./format";

describe("fileSize", () => {
  it("says sizes in the decimal units the providers' limits use", () => {
    expect(fileSize(820)).toBe("820 B");
    expect(fileSize(48_213)).toBe("48 KB");
    expect(fileSize(500_000)).toBe("500 KB");
    expect(fileSize(1_200_000)).toBe("1.2 MB");
    expect(fileSize(5_000_000)).toBe("5 MB");
  });
});
