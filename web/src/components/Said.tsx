/** What an action said: a success as a status, a failure as an alert (read out at once), or nothing. */
export function Said({ message }: { message: { kind: "ok" | "error"; text: string } | null | undefined }) {
  if (!message) return null;
  return (
    <p role={message.kind === "error" ? "alert" : "status"} class={message.kind === "error" ? "error" : "ok"}>
      {message.text}
    </p>
  );
}
