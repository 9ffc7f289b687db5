//! The request side of `generateContent`: typed bodies that serialize to exactly what v1beta accepts.
//! Field names follow ai.google.dev/api (camelCase); absent options are omitted, never sent as null.

use crate::json::codec::json_object;
use crate::json::{DecodeError, Fields, Map, Obj, ReadJson, ToJson, Value};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Part {
    pub text: String,
    pub thought: bool,
    /// Gemini's opaque `thoughtSignature` (base64), sent back with the answer it came with, as Google asks.
    pub thought_signature: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    pub role: Option<String>,
    pub parts: Vec<Part>,
}

impl Content {
    pub fn text(role: &str, text: impl Into<String>) -> Self {
        Self::signed(role, text, None)
    }
    /// A turn with the `thoughtSignature` its answer came with (model turns only).
    pub fn signed(role: &str, text: impl Into<String>, signature: Option<String>) -> Self {
        let part = Part { text: text.into(), thought: false, thought_signature: signature };
        Content { role: Some(role.to_string()), parts: vec![part] }
    }
    pub fn user(text: impl Into<String>) -> Self {
        Self::text("user", text)
    }
    pub fn model(text: impl Into<String>) -> Self {
        Self::text("model", text)
    }
}

/// `thinkingConfig`. Members we do not model pass through untouched, as in [`GenerationConfig`]: a misspelt one is
/// Google's 400 to report, not dropped (a `thinkingBudgett: 0` left thinking on, billed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThinkingConfig {
    pub thinking_budget: Option<i32>,
    pub thinking_level: Option<String>,
    pub include_thoughts: Option<bool>,
    /// Members we do not model, in their order.
    pub extra: Map,
}

/// `generationConfig`. Fields we do not model (topP, stopSequences, seed, ...) pass through untouched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationConfig {
    pub response_mime_type: Option<String>,
    pub response_json_schema: Option<Value>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub thinking_config: Option<ThinkingConfig>,
    /// Members we do not model, in their order.
    pub extra: Map,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerateRequest {
    pub contents: Vec<Content>,
    pub system_instruction: Option<Content>,
    pub generation_config: Option<GenerationConfig>,
}

impl GenerationConfig {
    /// What Google would refuse (400) in any request carrying these settings, on any model (so a chat refuses them
    /// when created): the members this package reads, and a `responseSchema` beside a `responseJsonSchema`.
    pub fn check(&self) -> Result<(), crate::Error> {
        use crate::Error;
        let bad = |field: &str, message: &str| Err(Error::invalid(&cat!("generationConfig.", field), message));
        if let Some(t) = &self.thinking_config {
            // A level left unspecified is no level, as the mock reads it (Google's docs do not say).
            let budget = t.thinking_budget.is_some();
            let level = t.thinking_level.as_deref().is_some_and(|l| !l.eq_ignore_ascii_case("THINKING_LEVEL_UNSPECIFIED"));
            if budget && level {
                return bad("thinkingConfig", "set thinkingBudget or thinkingLevel, not both");
            }
            const LEVELS: [&str; 5] = ["minimal", "low", "medium", "high", "thinking_level_unspecified"];
            if t.thinking_level.as_deref().is_some_and(|l| !LEVELS.iter().any(|k| k.eq_ignore_ascii_case(l))) {
                return bad("thinkingConfig.thinkingLevel", "must be \"minimal\", \"low\", \"medium\" or \"high\"");
            }
        }
        // Gemini's field is a signed 32-bit integer.
        if self.max_output_tokens.is_some_and(|n| n == 0 || n > i32::MAX as u32) {
            return bad("maxOutputTokens", "must be from 1 to 2147483647");
        }
        if self.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return bad("temperature", "must be from 0 to 2");
        }
        const MIME_TYPES: [&str; 5] = ["text/plain", "application/json", "application/xml", "application/yaml", "text/x.enum"];
        if self.response_mime_type.as_deref().is_some_and(|m| !MIME_TYPES.contains(&m)) {
            return bad("responseMimeType", "must be one of text/plain, application/json, application/xml, application/yaml, text/x.enum");
        }
        if let Some(schema) = self.response_schema() {
            if schema.as_object().is_none() {
                return bad("responseSchema", "must be a schema object");
            }
            if self.response_json_schema.is_some() {
                return bad("responseSchema", "set responseSchema or responseJsonSchema, not both");
            }
        }
        Ok(())
    }

    /// `responseSchema` (OpenAPI's schema form, passed through as given; read under its JSON name).
    fn response_schema(&self) -> Option<&Value> {
        self.extra.get("responseSchema")
    }
}

impl GenerateRequest {
    /// Checks what Google would reject with a 400, so a bad request costs no round trip.
    pub fn validate(&self) -> Result<(), crate::Error> {
        use crate::Error;
        if self.contents.is_empty() {
            return Err(Error::invalid("contents", "at least one user turn is required"));
        }
        for c in &self.contents {
            match c.role.as_deref() {
                Some("user") | Some("model") => {}
                Some(other) => {
                    return Err(Error::invalid("role", cat!("role must be \"user\" or \"model\", got ", crate::json::quote(other))))
                }
                None => return Err(Error::invalid("role", "every turn needs a role, \"user\" or \"model\"")),
            }
        }
        if self.contents.last().and_then(|c| c.role.as_deref()) != Some("user") {
            return Err(Error::invalid("contents", "the conversation must end with a user turn"));
        }
        if let Some(g) = &self.generation_config {
            g.check()?;
            let mime = g.response_mime_type.as_deref();
            if g.response_json_schema.is_some() && mime != Some("application/json") {
                return Err(Error::invalid(
                    "generationConfig.responseJsonSchema",
                    "requires responseMimeType \"application/json\"",
                ));
            }
            // `text/x.enum` answers one of the schema's `enum` values (the structured-output guide).
            if g.response_schema().is_some() && !matches!(mime, Some("application/json" | "text/x.enum")) {
                return Err(Error::invalid(
                    "generationConfig.responseSchema",
                    "requires responseMimeType \"application/json\" (or \"text/x.enum\")",
                ));
            }
        }
        Ok(())
    }

    /// Rough prompt size in tokens (about four characters each), for budgeting only.
    pub fn approx_prompt_tokens(&self) -> usize {
        let chars: usize = self
            .contents
            .iter()
            .chain(self.system_instruction.iter())
            .flat_map(|c| c.parts.iter())
            .map(|p| crate::text::char_count(&p.text))
            .sum();
        chars.div_ceil(4)
    }
}

impl ReadJson for Part {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        let f = Fields::of(v)?;
        f.opt("text", &mut self.text)?;
        f.opt("thought", &mut self.thought)?;
        f.opt("thoughtSignature", &mut self.thought_signature)?;
        Ok(())
    }
}

impl ToJson for Part {
    fn write_json(&self, out: &mut String) {
        let o = Obj::new(out).field("text", &self.text).some("thoughtSignature", &self.thought_signature);
        if self.thought { o.field("thought", &true) } else { o }.end();
    }
}

json_object!(Content { role: "role" skip, parts: "parts" opt });
const THINKING_CONFIG_FIELDS: &[&str] = &["thinkingBudget", "thinkingLevel", "includeThoughts"];

const GENERATION_CONFIG_FIELDS: &[&str] =
    &["responseMimeType", "responseJsonSchema", "maxOutputTokens", "temperature", "thinkingConfig"];
/// The members read under one name: those modelled, and `responseSchema`, which is checked but passed through.
const GENERATION_CONFIG_NAMES: &[&str] =
    &["responseMimeType", "responseJsonSchema", "maxOutputTokens", "temperature", "thinkingConfig", "responseSchema"];

/// `v` with the proto's own (snake_case) names of `known` fields written as their JSON names. Google reads both,
/// so the checks, and the settings this package adds (`responseMimeType`), must see one field under one name; both
/// given at once are refused. A member set to `null` is left out: Google's JSON reads it as not set.
fn json_names(v: &Value, known: &[&str]) -> Result<Value, Box<DecodeError>> {
    let Some(map) = v.as_object() else { return Ok(v.clone()) };
    let is_set = |x: &Value| !matches!(x, Value::Null);
    let mut out = Map::new();
    for (k, x) in map.0.iter().filter(|(_, x)| is_set(x)) {
        let snake = |c: &str| {
            c.chars().flat_map(|ch| [ch.is_ascii_uppercase().then_some('_'), Some(ch.to_ascii_lowercase())]).flatten().eq(k.chars())
        };
        let name = known.iter().find(|c| snake(c)).map_or(k.as_str(), |c| c);
        if name != k && map.get(name).is_some_and(is_set) {
            return Err(Box::new(DecodeError::new(cat!("names the same field as `", name, "`: give one of them")).in_key(k)));
        }
        out.0.push((name.to_string(), x.clone()));
    }
    Ok(Value::Object(out))
}

/// The members of an object not among `known`, in their order.
fn unmodelled(v: &Value, known: &[&str]) -> Map {
    let mut extra = Map::new();
    for (k, x) in v.as_object().map_or(&[][..], |m| &m.0[..]) {
        if !known.contains(&k.as_str()) {
            extra.insert(k, x.clone());
        }
    }
    extra
}

impl ReadJson for ThinkingConfig {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        let v = &json_names(v, THINKING_CONFIG_FIELDS)?;
        let f = Fields::of(v)?;
        f.opt("thinkingBudget", &mut self.thinking_budget)?;
        f.opt("thinkingLevel", &mut self.thinking_level)?;
        f.opt("includeThoughts", &mut self.include_thoughts)?;
        self.extra = unmodelled(v, THINKING_CONFIG_FIELDS);
        Ok(())
    }
}

impl ToJson for ThinkingConfig {
    fn write_json(&self, out: &mut String) {
        let mut o = Obj::new(out)
            .some("thinkingBudget", &self.thinking_budget)
            .some("thinkingLevel", &self.thinking_level)
            .some("includeThoughts", &self.include_thoughts);
        for (k, v) in &self.extra.0 {
            o = o.field(k, v);
        }
        o.end();
    }
}

impl ReadJson for GenerationConfig {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        let v = &json_names(v, GENERATION_CONFIG_NAMES)?;
        let f = Fields::of(v)?;
        let extra = unmodelled(v, GENERATION_CONFIG_FIELDS);
        f.opt("responseMimeType", &mut self.response_mime_type)?;
        f.opt("responseJsonSchema", &mut self.response_json_schema)?;
        f.opt("maxOutputTokens", &mut self.max_output_tokens)?;
        f.opt("temperature", &mut self.temperature)?;
        f.opt("thinkingConfig", &mut self.thinking_config)?;
        self.extra = extra;
        Ok(())
    }
}

impl ToJson for GenerationConfig {
    fn write_json(&self, out: &mut String) {
        let mut o = Obj::new(out)
            .some("responseMimeType", &self.response_mime_type)
            .some("responseJsonSchema", &self.response_json_schema)
            .some("maxOutputTokens", &self.max_output_tokens)
            .some("temperature", &self.temperature)
            .some("thinkingConfig", &self.thinking_config);
        for (k, v) in &self.extra.0 {
            o = o.field(k, v);
        }
        o.end();
    }
}

impl ToJson for GenerateRequest {
    fn write_json(&self, out: &mut String) {
        Obj::new(out)
            .field("contents", &self.contents)
            .some("systemInstruction", &self.system_instruction)
            .some("generationConfig", &self.generation_config)
            .end();
    }
}
