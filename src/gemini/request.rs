//! The request side of `generateContent`: typed bodies that serialize to exactly what v1beta accepts.
//! Field names follow ai.google.dev/api (camelCase); absent options are omitted, never sent as null.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub thought: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<Part>,
}

impl Content {
    pub fn text(role: &str, text: impl Into<String>) -> Self {
        Content { role: Some(role.to_string()), parts: vec![Part { text: text.into(), thought: false }] }
    }
    pub fn user(text: impl Into<String>) -> Self {
        Self::text("user", text)
    }
    pub fn model(text: impl Into<String>) -> Self {
        Self::text("model", text)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
}

/// `generationConfig`. Fields we do not model (topP, stopSequences, seed, ...) pass through untouched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    pub contents: Vec<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
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
                other => {
                    return Err(Error::invalid("role", format!("role must be \"user\" or \"model\", got {other:?}")))
                }
            }
        }
        if self.contents.last().and_then(|c| c.role.as_deref()) != Some("user") {
            return Err(Error::invalid("contents", "the conversation must end with a user turn"));
        }
        if let Some(g) = &self.generation_config {
            if let Some(t) = &g.thinking_config {
                if t.thinking_budget.is_some() && t.thinking_level.is_some() {
                    return Err(Error::invalid(
                        "generationConfig.thinkingConfig",
                        "set thinkingBudget or thinkingLevel, not both",
                    ));
                }
            }
            if g.max_output_tokens == Some(0) {
                return Err(Error::invalid("generationConfig.maxOutputTokens", "must be at least 1"));
            }
            if g.response_json_schema.is_some() && g.response_mime_type.as_deref() != Some("application/json") {
                return Err(Error::invalid(
                    "generationConfig.responseJsonSchema",
                    "requires responseMimeType \"application/json\"",
                ));
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| panic!("request serializes"))
    }

    /// Rough prompt size in tokens (about four characters each), for budgeting only.
    pub fn approx_prompt_tokens(&self) -> usize {
        let chars: usize = self
            .contents
            .iter()
            .chain(self.system_instruction.iter())
            .flat_map(|c| c.parts.iter())
            .map(|p| p.text.chars().count())
            .sum();
        chars.div_ceil(4)
    }
}
