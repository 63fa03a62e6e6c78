import { styleText } from "node:util";
import cliTruncate from "cli-truncate";
import wrapAnsi from "wrap-ansi";
import { type Cell, formatDuration, plainCells, plainRow, renderMatrix, renderTable, type ShootRow } from "./view.js";

/**
 * Where the demo's progress goes: a live view redrawn in place on a terminal, or plain lines for CI and
 * pipes (`--no-tty`). Both take the same calls; neither ever shows a log line.
 */
export interface Step {
  update(text: string): void;
  done(text?: string): void;
  fail(text?: string): void;
}

export interface Display {
  step(text: string): Step;
  /** A line that stays (an event of the story). */
  note(text: string): void;
  /** The matrix and the lines under it. */
  matrix(rows: readonly ShootRow[], details: readonly string[]): void;
  /** The second table: what arrived in each shoot (a header and one row of cells per shoot). */
  shoots(header: readonly string[], rows: readonly Cell[][]): void;
  /** Stops redrawing; the last frame stays on screen. */
  close(): void;
}

type Out = { write(text: string): unknown; columns?: number };

interface StepState {
  text: string;
  state: "running" | "done" | "failed" | "note";
  started: number;
  ended?: number;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Cursor control for the in-place redraw (colours come from util.styleText, which has no cursor moves). */
const ESC = "\u001b[";
/** Shows the cursor again (the live display hides it while it redraws). */
export const SHOW_CURSOR = `${ESC}?25h`;

export function createLiveDisplay(out: Out, header: { title: string; subtitle: string }, started = Date.now()): Display {
  const steps: StepState[] = [];
  let rows: readonly ShootRow[] = [];
  let details: readonly string[] = [];
  let shootTable: { header: readonly string[]; rows: readonly Cell[][] } = { header: [], rows: [] };
  let drawn = 0;
  let tick = 0;
  let closed = false;

  const frame = (width: number): string[] => {
    const spin = SPINNER[tick % SPINNER.length] ?? "";
    const lines = [`${bold(header.title)}  ${closed ? "" : spin} ${formatDuration(Date.now() - started)}`, dim(header.subtitle), ""];
    for (const s of steps) {
      const mark =
        s.state === "done" ? green("✔") : s.state === "failed" ? red("✘") : s.state === "note" ? dim("•") : yellow(closed ? "…" : spin);
      const time = s.state === "running" ? ` ${formatDuration(Date.now() - s.started)}` : "";
      const [first = "", ...rest] = wrapText(`${s.text}${time}`, width - 3);
      lines.push(` ${mark} ${first}`, ...rest.map((l) => `   ${l}`));
    }
    if (rows.length > 0) {
      lines.push("", ...renderMatrix(rows, { color: true, indent: "   " }));
      if (details.length > 0) lines.push("", ...details.flatMap((d) => wrapText(d, width - 5).map((l, i) => `${i === 0 ? "   " : "     "}${yellow(l)}`)));
    }
    if (shootTable.rows.length > 0) {
      lines.push("", `   ${dim("in the shoots (each shoot's kube-apiserver, applied by gardener-resource-manager):")}`);
      lines.push(...renderTable(shootTable.header, shootTable.rows, { color: true, indent: "   " }));
    }
    return lines;
  };

  const draw = () => {
    const width = Math.max(40, (out.columns ?? 120) - 1);
    const lines = frame(width).map((l) => truncateVisible(l, width));
    const up = drawn > 0 ? `${ESC}${drawn}F` : "";
    out.write(`${up}${ESC}J${lines.join("\n")}\n`);
    drawn = lines.length;
    tick++;
  };

  out.write(`${ESC}?25l`);
  const timer = setInterval(draw, 100);
  timer.unref();
  draw();

  return {
    step(text) {
      const s: StepState = { text, state: "running", started: Date.now() };
      steps.push(s);
      return {
        update(t) {
          s.text = t;
        },
        done(t) {
          if (t) s.text = t;
          s.state = "done";
          s.ended = Date.now();
        },
        fail(t) {
          if (t) s.text = t;
          s.state = "failed";
          s.ended = Date.now();
        },
      };
    },
    note(text) {
      steps.push({ text, state: "note", started: Date.now() });
    },
    matrix(r, d) {
      rows = r;
      details = d;
    },
    shoots(header, r) {
      shootTable = { header, rows: r };
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      draw();
      out.write(SHOW_CURSOR);
    },
  };
}

export function createPlainDisplay(out: Out, header: { title: string; subtitle: string }, started = Date.now()): Display {
  const stamp = () => `[${formatDuration(Date.now() - started).padStart(6)}]`;
  const say = (text: string) => out.write(`${stamp()} ${text}\n`);
  const lastRow = new Map<string, string>();
  let lastDetails = new Set<string>();
  const lastShootRow = new Map<string, string>();
  say(`${header.title}; ${header.subtitle}`);
  return {
    step(text) {
      say(`... ${text}`);
      let current = text;
      return {
        update(t) {
          if (t !== current) say(`... ${t}`);
          current = t;
        },
        done(t) {
          say(`ok  ${t ?? current}`);
        },
        fail(t) {
          say(`FAILED ${t ?? current}`);
        },
      };
    },
    note(text) {
      say(`*   ${text}`);
    },
    matrix(rows, details) {
      for (const row of rows) {
        const line = plainRow(row);
        if (lastRow.get(row.namespace) !== line) say(line);
        lastRow.set(row.namespace, line);
      }
      for (const d of details) if (!lastDetails.has(d)) say(d);
      lastDetails = new Set(details);
    },
    shoots(header, rows) {
      for (const row of rows) {
        const name = row[0]?.text ?? "";
        const line = `in shoot ${plainCells(header, row)}`;
        if (lastShootRow.get(name) !== line) say(line);
        lastShootRow.set(name, line);
      }
    },
    close() {},
  };
}

// Colours are asked for, not detected: this display is only created for a terminal (`--no-tty` takes the plain one).
const style = (format: Parameters<typeof styleText>[0]) => (s: string) => styleText(format, s, { validateStream: false });
const bold = style("bold");
const dim = style("dim");
const green = style("green");
const red = style("red");
const yellow = style("yellow");

/** Word-wraps plain text to `width` columns; a word longer than that is cut. */
export function wrapText(text: string, width: number): string[] {
  return wrapAnsi(text, width, { hard: true }).split("\n");
}

/** Cuts a line to `width` columns, keeping escape sequences intact (a wrapped line would break the redraw). */
export function truncateVisible(line: string, width: number): string {
  return cliTruncate(line, width, { position: "end", truncationCharacter: "" });
}
