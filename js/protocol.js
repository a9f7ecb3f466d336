// The ChatWidget protocol, front-end side. The Python side is nbclaude/_widget/protocol.py: the same
// names, the same values. Change both together (tests/widget/test_protocol.py compares them).
//
// Durable state lives in traits (Python owns them; the front end only writes the settings):
//   busy        boolean        a turn is streaming (from the widget, %%claude or Session.send)
//   usage       Usage          token totals over the session
//   cost        number | null  USD, null when the model's price is unknown
//   budget      number | null  the session's budget in USD, null when it has none
//   models      ModelChoice[]  for the settings panel (GET /v1/models, or a built-in fallback)
//   model, system, max_tokens  the session's settings (written by the settings panel)
//   error       Banner | null  the error banner
//   tool_names  string[]       the names of session.tools
//   use_tools   boolean        widget turns may use the tools (written by the settings switch)
//   approval    Approval|null  the tool call waiting for "Run tool" / "Deny tool"
//   shared      boolean        the session is the shared one (%%claude cells use it too)
//   saved_id    string         names the saved copy of the conversation (an HTML output beside the
//                              widget, for the notebook file): views hide it while they show
//
// Everything that happens (deltas, commands, images) travels as custom messages, below.
//
// The transcript (every message of the session, Entry[]) is no trait: a trait goes whole at every
// change. A view asks for it once (SYNC with `transcript`) and gets it as one ENTRIES message;
// each change after that is an ENTRIES message with only the entries from the first changed one.

/** Front end -> Python. */
export const FROM_VIEW = Object.freeze({
  /** `{type, text, attachments: string[]}`: start a turn with the text and attached images. */
  SEND: "send",
  /** `{type}`: stop the turn that is streaming now. */
  STOP: "stop",
  /** `{type}`: send the turn that failed again. */
  RETRY: "retry",
  /** `{type}`: hide the error banner. */
  DISMISS: "dismiss",
  /** `{type}`: forget the whole conversation (Session.reset). */
  CLEAR: "clear",
  /** `{type}`: drop the last exchange (Session.undo). */
  UNDO: "undo",
  /** `{type, id, name, media_type, size}` + one binary buffer: an image to attach. */
  ATTACH: "attach",
  /** `{type, id}`: forget a pending attachment. */
  DETACH: "detach",
  /**
   * `{type, transcript?}`: a new view (or opened settings) asks for fresh state: LIVE and tool
   * names; with `transcript` (a new view) also the whole transcript (ENTRIES from 0).
   */
  SYNC: "sync",
  /** `{type, id, allow, always?}`: the answer to the `approval` trait (Run tool / Deny tool). */
  APPROVE: "approve",
});

/** Python -> front end. */
export const TO_VIEW = Object.freeze({
  /** `{type, index, model, prefill}`: an assistant reply starts (index of the user message). */
  TURN_START: "turn_start",
  /** `{type, text?, thinking?}`: new text since the last delta, coalesced (~every 100 ms). */
  DELTA: "delta",
  /**
   * `{type, interrupted, error?}`: the reply ended; the transcript now holds it. With `error`
   * it failed (the turn is rolled back): what streamed stays on screen, marked with the error.
   */
  TURN_END: "turn_end",
  /** `{type, index, model, prefill, text, thinking}`: the whole live reply so far (after SYNC). */
  LIVE: "live",
  /** `{type, id, ok, error?}`: answer to ATTACH. */
  ATTACHED: "attached",
  /** `{type, text}`: put this text back into the composer (a send was refused). */
  DRAFT: "draft",
  /** `{type}`: the live reply so far is in the transcript now (a tool round); start afresh. */
  STEP: "step",
  /**
   * `{type, seq, start, entries}`: from entry `start` on, the transcript is `entries` (0: all of
   * it); `seq` counts the changes, so a view that sees a gap asks again.
   */
  ENTRIES: "entries",
  /**
   * `{type, status, reason, attempt, attempts, wait}`: the request failed and is tried again in
   * `wait` seconds (attempt `attempt` of `attempts`); the view counts down.
   */
  RETRY_WAIT: "retry_wait",
});

/** Largest file the composer sends to Python (bytes); Python refuses larger ones too. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** Image types the API accepts (others are converted by nbclaude.image in Python). */
export const IMAGE_TYPES = Object.freeze(["image/jpeg", "image/png", "image/gif", "image/webp"]);

// -- the traits ------------------------------------------------------------------------------

/**
 * @typedef {{type: "text", text: string}} TextBlock
 * @typedef {{type: "thinking", text: string}} ThinkingBlock
 * @typedef {{type: "image", src: string, width?: number, height?: number, label?: string}} ImageBlock
 *   `src` is a `data:image/...` thumbnail made by Python, never a remote URL.
 * @typedef {{type: "other", label: string}} OtherBlock
 * @typedef {"running" | "done" | "failed" | "declined" | "not run"} ToolStatus
 * @typedef {{type: "tool", id: string, name: string, input: string, status: ToolStatus,
 *   result?: string, images?: ImageBlock[]}} ToolBlock
 *   A tool call and its result. `input` is JSON text; everything is shown as text. `images`
 *   are thumbnails of the pictures the tool returned.
 * @typedef {TextBlock | ThinkingBlock | ImageBlock | ToolBlock | OtherBlock} Block
 * @typedef {{id: string, name: string, input: string}} Approval
 * @typedef {{role: "user" | "assistant", blocks: Block[], meta?: Meta}} Entry
 * @typedef {{model?: string, stop_reason?: string | null, interrupted?: boolean,
 *   output_tokens?: number, estimated?: boolean, cost?: number | null}} Meta
 *   `estimated`: the reply was stopped before the API counted its tokens; `output_tokens` is an
 *   estimate.
 * @typedef {{input_tokens: number, output_tokens: number,
 *   cache_creation_input_tokens?: number, cache_read_input_tokens?: number}} Usage
 * @typedef {{id: string, display_name?: string}} ModelChoice
 * @typedef {{message: string, hint?: string, kind?: string, request_id?: string | null,
 *   retry?: boolean}} Banner
 */

/**
 * Every trait of the widget model, by name (the table at the top of this file).
 * @typedef {object} Traits
 * @property {boolean} busy
 * @property {Partial<Usage>} usage  may be `{}` (the trait's default in Python)
 * @property {number | null} cost
 * @property {number | null} budget  USD; null when the session has no budget
 * @property {ModelChoice[]} models
 * @property {string} model
 * @property {string} system
 * @property {number} max_tokens
 * @property {Banner | null} error
 * @property {string[]} tool_names
 * @property {boolean} use_tools
 * @property {Approval | null} approval
 * @property {boolean} shared
 * @property {string} saved_id
 */

// -- the custom messages ----------------------------------------------------------------------

/**
 * Front end -> Python, one type per `FROM_VIEW` kind.
 * @typedef {{type: typeof FROM_VIEW.SEND, text: string, attachments: string[]}} SendMsg
 * @typedef {{type: typeof FROM_VIEW.STOP}} StopMsg
 * @typedef {{type: typeof FROM_VIEW.RETRY}} RetryMsg
 * @typedef {{type: typeof FROM_VIEW.DISMISS}} DismissMsg
 * @typedef {{type: typeof FROM_VIEW.CLEAR}} ClearMsg
 * @typedef {{type: typeof FROM_VIEW.UNDO}} UndoMsg
 * @typedef {{type: typeof FROM_VIEW.ATTACH, id: string, name: string, media_type: string,
 *   size: number}} AttachMsg
 *   Sent with the image's bytes as the one buffer.
 * @typedef {{type: typeof FROM_VIEW.DETACH, id: string}} DetachMsg
 * @typedef {{type: typeof FROM_VIEW.SYNC, transcript?: boolean}} SyncMsg
 * @typedef {{type: typeof FROM_VIEW.APPROVE, id: string, allow: boolean, always?: boolean}} ApproveMsg
 * @typedef {SendMsg | StopMsg | RetryMsg | DismissMsg | ClearMsg | UndoMsg | AttachMsg | DetachMsg
 *   | SyncMsg | ApproveMsg} FromViewMsg
 */

/**
 * Python -> front end, one type per `TO_VIEW` kind.
 * @typedef {{type: typeof TO_VIEW.TURN_START, index: number, model: string,
 *   prefill: string | null}} TurnStartMsg
 *   `index` is the position of the reply's user message in the transcript.
 * @typedef {{type: typeof TO_VIEW.DELTA, text?: string, thinking?: string}} DeltaMsg
 * @typedef {{type: typeof TO_VIEW.TURN_END, interrupted: boolean, error?: string}} TurnEndMsg
 * @typedef {{type: typeof TO_VIEW.LIVE, index: number, model: string, prefill: string | null,
 *   text: string, thinking: string, step?: boolean}} LiveMsg
 *   `step`: the reply is past a tool round (a view opened now shows no empty bubble).
 * @typedef {{type: typeof TO_VIEW.ATTACHED, id: string, ok: boolean, error?: string}} AttachedMsg
 * @typedef {{type: typeof TO_VIEW.DRAFT, text: string}} DraftMsg
 * @typedef {{type: typeof TO_VIEW.STEP}} StepMsg
 * @typedef {{type: typeof TO_VIEW.ENTRIES, seq: number, start: number, entries: Entry[]}} EntriesMsg
 * @typedef {{type: typeof TO_VIEW.RETRY_WAIT, status: number | null, reason: string,
 *   attempt: number, attempts: number, wait: number}} RetryWaitMsg
 * @typedef {TurnStartMsg | DeltaMsg | TurnEndMsg | LiveMsg | AttachedMsg | DraftMsg | StepMsg
 *   | EntriesMsg | RetryWaitMsg} ToViewMsg
 */
