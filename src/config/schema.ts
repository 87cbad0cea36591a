/**
 * The configuration schema: every key of `ysco.toml` with its type, default,
 * example, documentation and checks. It is the one source for parsing and
 * validation, for `ysco config` and `ysco configdefaults`, and for the README's
 * configuration reference; the Config type is inferred from it.
 *
 * @module
 */

/** What every field has. */
interface FieldBase<T> {
  /** Documentation, printed as comments above the key. */
  doc: string;
  /** Value used when the key is absent. */
  default: T;
  /** Value shown by `ysco config`. @default the default */
  example?: T;
  /** The key must be present. */
  required?: boolean;
  /**
   * Only the file on the host may change it, never the admin page: it decides what
   * runs commands or what is trusted (docs/security.md).
   */
  hostOnly?: boolean;
  /** Read when `ysco run` starts: a change takes effect at the next start. */
  atStart?: boolean;
}

/** A string, optionally one of fixed values, optionally with a check. */
export interface StringField<T extends string = string> extends FieldBase<T> {
  kind: "string";
  values?: readonly T[];
  /** Returns an error text for a bad value. */
  check?: (value: string) => string | undefined;
}

/** A Go-style duration string ("72h", "1m30s"), held in milliseconds. */
export interface DurationField extends FieldBase<number> {
  kind: "duration";
  /** Smallest allowed value in milliseconds, except that 0 may be allowed separately. */
  min?: number;
  /** Whether "0s" is accepted (e.g. to disable jitter). */
  zeroAllowed?: boolean;
}

/** true or false. */
export interface BoolField extends FieldBase<boolean> {
  kind: "bool";
}

/** An integer in a range. */
export interface IntField extends FieldBase<number> {
  kind: "int";
  min: number;
  max: number;
}

/** A list of strings, optionally of fixed values, optionally with a check per item. */
export interface StringListField<T extends string = string> extends FieldBase<T[]> {
  kind: "strings";
  values?: readonly T[];
  check?: (value: string) => string | undefined;
  /** Whether the list may be empty. @default true */
  emptyAllowed?: boolean;
}

/** A table of fields ([monitor]). */
export interface TableField<F extends Fields = Fields> {
  kind: "table";
  doc: string;
  fields: F;
  /** Every key of the table is host-only (see FieldBase.hostOnly). */
  hostOnly?: boolean;
  /** Every key of the table is read at start (see FieldBase.atStart). */
  atStart?: boolean;
}

/** An array of tables ([[links]]). */
export interface TableListField<F extends Fields = Fields> {
  kind: "tables";
  doc: string;
  fields: F;
  /** Items shown by `ysco config`. */
  example: Array<Record<string, unknown>>;
}

/** Any field. */
export type Field =
  | StringField
  | DurationField
  | BoolField
  | IntField
  | StringListField
  | TableField
  | TableListField;

/** Fields by key. */
export type Fields = Record<string, Field>;

/** The value type of a field. */
export type ValueOf<F> = F extends StringField<infer T> ? T
  : F extends DurationField | IntField ? number
  : F extends BoolField ? boolean
  : F extends StringListField<infer T> ? T[]
  : F extends TableField<infer G> ? { [K in keyof G]: ValueOf<G[K]> }
  : F extends TableListField<infer G> ? Array<{ [K in keyof G]: ValueOf<G[K]> }>
  : never;

/** Defines a string field. */
export function string<T extends string>(f: Omit<StringField<T>, "kind">): StringField<T> {
  return { kind: "string", ...f };
}

/** Defines a duration field. */
export function duration(f: Omit<DurationField, "kind">): DurationField {
  return { kind: "duration", ...f };
}

/** Defines a boolean field. */
export function bool(f: Omit<BoolField, "kind">): BoolField {
  return { kind: "bool", ...f };
}

/** Defines an integer field. */
export function int(f: Omit<IntField, "kind">): IntField {
  return { kind: "int", ...f };
}

/** Defines a list of strings. */
export function strings<T extends string>(f: Omit<StringListField<T>, "kind">): StringListField<T> {
  return { kind: "strings", ...f };
}

/** Defines a table. */
export function table<F extends Fields>(
  doc: string,
  fields: F,
  flags: Pick<TableField, "hostOnly" | "atStart"> = {},
): TableField<F> {
  return { kind: "table", doc, fields, ...flags };
}

/** Defines an array of tables. */
export function tables<F extends Fields>(
  doc: string,
  fields: F,
  example: Array<Record<string, unknown>>,
): TableListField<F> {
  return { kind: "tables", doc, fields, example };
}
