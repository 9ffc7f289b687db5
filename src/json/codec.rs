//! Typed reading and writing over [`Value`]: `FromJson` names the exact path of a bad field, `ToJson`
//! writes compact JSON text. Each type spells out its field names once, in its own module.

use super::value::{write_str, Map, Value};
use super::num;

/// Why a value could not be read as the expected type, and where (`resumeFrom.weeks[2].days`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub path: String,
    pub message: String,
}

impl DecodeError {
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError { path: String::new(), message: message.into() }
    }
    fn expected(what: &str, got: &Value) -> Self {
        let mut m = String::from("invalid type: expected ");
        m.push_str(what);
        m.push_str(", got ");
        m.push_str(got.kind());
        DecodeError::new(m)
    }
    /// Prefixes the path with an object key (`weeks` + `[2].days` → `weeks[2].days`).
    pub fn in_key(self, key: &str) -> Self {
        self.prefixed(key)
    }
    fn in_index(self, i: usize) -> Self {
        let mut p = String::from("[");
        num::write_u64(&mut p, i as u64);
        p.push(']');
        self.prefixed(&p)
    }
    fn prefixed(mut self, head: &str) -> Self {
        // Built anew rather than with `String::insert`, whose char-boundary check links a panic location.
        let mut path = String::from(head);
        if !self.path.is_empty() && !self.path.starts_with('[') {
            path.push('.');
        }
        path.push_str(&self.path);
        self.path = path;
        self
    }
}

/// Reading fills a default value in place: a struct's fields are read one call each, with no partly built
/// struct to drop on every early return (which made the by-value version several times larger in wasm).
/// The error is boxed so that passing it up a struct's many fields moves one pointer, not two strings.
/// The trait is object-safe so that [`Fields`] reads a field of any type through one function (`dyn`): one
/// copy per field type made the wasm 2.4 KB gzip larger.
pub trait ReadJson {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>>;
}

/// A [`ReadJson`] type that can be built from JSON on its own.
pub trait FromJson: ReadJson + Default {
    fn from_json(v: &Value) -> Result<Self, DecodeError> {
        let mut x = Self::default();
        x.read_json(v).map_err(|e| *e)?;
        Ok(x)
    }
}

impl<T: ReadJson + Default> FromJson for T {}

pub trait ToJson {
    fn write_json(&self, out: &mut String);

    fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// Parses JSON text and reads it as `T`. A syntax error has an empty path.
pub fn decode<T: FromJson>(text: &str) -> Result<T, DecodeError> {
    let v = Value::parse(text).map_err(|e| DecodeError::new(e.message))?;
    T::from_json(&v)
}

impl ReadJson for Value {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        *self = v.clone();
        Ok(())
    }
}

impl ReadJson for String {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        let s = v.as_str().ok_or_else(|| DecodeError::expected("a string", v))?;
        s.clone_into(self);
        Ok(())
    }
}

impl ReadJson for bool {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        match v {
            Value::Bool(b) => {
                *self = *b;
                Ok(())
            }
            _ => Err(Box::new(DecodeError::expected("a boolean", v))),
        }
    }
}

impl ReadJson for f64 {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        *self = v.as_f64().ok_or_else(|| DecodeError::expected("a number", v))?;
        Ok(())
    }
}

fn whole_in(v: &Value, max: u64, range: &str) -> Result<u64, DecodeError> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        _ if v.as_f64().is_some() => Err(DecodeError::new(range)),
        _ => Err(DecodeError::expected("a whole number", v)),
    }
}

impl ReadJson for i32 {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= i32::MIN as f64 && n <= i32::MAX as f64 => {
                *self = n as i32;
                Ok(())
            }
            Some(_) => Err(Box::new(DecodeError::new("expected a whole number from -2^31 to 2^31 - 1"))),
            None => Err(Box::new(DecodeError::expected("a whole number", v))),
        }
    }
}

impl ReadJson for u32 {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        *self = whole_in(v, u32::MAX as u64, "expected a whole number from 0 to 2^32 - 1")? as u32;
        Ok(())
    }
}

impl ReadJson for u64 {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        *self = whole_in(v, u64::MAX, "expected a whole number from 0 to 2^53")?;
        Ok(())
    }
}

/// `null` reads as `None`, as does a missing field (see [`Fields::opt`]).
impl<T: FromJson> ReadJson for Option<T> {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        if let Value::Null = v {
            *self = None;
            return Ok(());
        }
        // Read in place (a failed read fails the whole decode, so a half-read value is never seen).
        self.get_or_insert_with(T::default).read_json(v)
    }
}

impl<T: FromJson> ReadJson for Vec<T> {
    fn read_json(&mut self, v: &Value) -> Result<(), Box<DecodeError>> {
        read_list(self, v)
    }
}

type Read = Result<(), Box<DecodeError>>;

/// What [`read_list`] needs of a `Vec<T>`: the loop over the array is compiled once for every item type,
/// which keeps only these two short functions each.
trait Items {
    /// Empties the list, with room for `n` items.
    fn reset(&mut self, n: usize);
    /// Appends a default item and lends it out to be read (a failed read fails the whole decode). Always
    /// `Some`: the `Option` stands in for an `unwrap` and its panic code (`Vec::push_mut` is newer than our MSRV).
    fn push_default(&mut self) -> Option<&mut dyn ReadJson>;
}

impl<T: FromJson> Items for Vec<T> {
    fn reset(&mut self, n: usize) {
        self.clear();
        self.reserve(n);
    }

    fn push_default(&mut self) -> Option<&mut dyn ReadJson> {
        self.push(T::default());
        self.last_mut().map(|item| item as &mut dyn ReadJson)
    }
}

fn read_list(list: &mut dyn Items, v: &Value) -> Read {
    let a = v.as_array().ok_or_else(|| DecodeError::expected("an array", v))?;
    list.reset(a.len());
    for (i, x) in a.iter().enumerate() {
        if let Some(item) = list.push_default() {
            item.read_json(x).map_err(|e| Box::new(e.in_index(i)))?;
        }
    }
    Ok(())
}

/// Fails on the first of `keys` not in `known` (the path is that key).
pub fn only<'k>(mut keys: impl Iterator<Item = &'k String>, known: &[&str]) -> Result<(), DecodeError> {
    if let Some(k) = keys.find(|k| !known.contains(&k.as_str())) {
        let mut m = String::from("unknown field; expected one of ");
        m.push_str(&crate::text::join(known.iter().copied(), ", "));
        return Err(DecodeError::new(m).in_key(k));
    }
    Ok(())
}

/// The members of an object being read into a struct.
pub struct Fields<'a> {
    map: &'a Map,
}

impl<'a> Fields<'a> {
    pub fn of(v: &'a Value) -> Result<Self, DecodeError> {
        v.as_object().map(|map| Fields { map }).ok_or_else(|| DecodeError::expected("an object", v))
    }

    /// Fails on the first member not in `known` (the path is that member's name).
    pub fn only(&self, known: &[&str]) -> Result<(), DecodeError> {
        only(self.map.0.iter().map(|(k, _)| k), known)
    }

    /// A field that must be present; `null` is missing too, as for [`Fields::opt`] (an option set to `null`
    /// counts as not given).
    pub fn req(&self, key: &str, slot: &mut dyn ReadJson) -> Result<(), Box<DecodeError>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Err(Box::new(DecodeError::new("missing field").in_key(key))),
            Some(v) => slot.read_json(v).map_err(|e| Box::new(e.in_key(key))),
        }
    }

    /// A field that may be missing, or `null` (read as its default: `None`, `""`, `0`, `[]`).
    pub fn opt(&self, key: &str, slot: &mut dyn ReadJson) -> Result<(), Box<DecodeError>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(()),
            Some(v) => slot.read_json(v).map_err(|e| Box::new(e.in_key(key))),
        }
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl ToJson for f64 {
    fn write_json(&self, out: &mut String) {
        num::write_f64(out, *self);
    }
}

impl ToJson for u32 {
    fn write_json(&self, out: &mut String) {
        num::write_u64(out, u64::from(*self));
    }
}

impl ToJson for u64 {
    fn write_json(&self, out: &mut String) {
        num::write_u64(out, *self);
    }
}

impl ToJson for i32 {
    fn write_json(&self, out: &mut String) {
        if *self < 0 {
            out.push('-');
        }
        num::write_u64(out, u64::from(self.unsigned_abs()));
    }
}

impl ToJson for Value {
    fn write_json(&self, out: &mut String) {
        self.write(out);
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.write_json(out);
        }
        out.push(']');
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

/// Writes an object member by member: `Obj::new(out).field("a", &1).end()`.
pub struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }

    pub fn field<T: ToJson + ?Sized>(mut self, key: &str, value: &T) -> Self {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(':');
        value.write_json(self.out);
        self
    }

    /// A member that is left out when `None` (instead of written as `null`).
    pub fn some<T: ToJson>(self, key: &str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    pub fn end(self) {
        self.out.push('}');
    }
}

/// Reads a string naming one of `names` (an enum written as a string).
pub fn read_enum<T: Copy>(v: &Value, names: &[(T, &str)]) -> Result<T, DecodeError> {
    let s = v.as_str().ok_or_else(|| DecodeError::expected("a string", v))?;
    names.iter().find(|(_, n)| *n == s).map(|(t, _)| *t).ok_or_else(|| {
        let mut m = String::from("expected one of ");
        m.push_str(&crate::text::join(names.iter().map(|(_, n)| *n), ", "));
        DecodeError::new(m)
    })
}

/// The name of `x` in `names`.
pub fn enum_name<T: PartialEq>(x: &T, names: &[(T, &'static str)]) -> &'static str {
    names.iter().find(|(t, _)| t == x).map_or("", |(_, n)| n)
}

/// Implements [`FromJson`] and [`ToJson`] for a struct from one list of `field: "jsonName" mode` entries, so
/// that every name is written once. `req`: must be present; `opt`: may be missing or `null`; `skip`: like
/// `opt`, and left out of the output when `None`. A leading `deny` makes an unknown member an error.
macro_rules! json_object {
    (deny $ty:ident { $($body:tt)* }) => { $crate::json::codec::json_object!(@impl true, $ty { $($body)* }); };
    ($ty:ident { $($body:tt)* }) => { $crate::json::codec::json_object!(@impl false, $ty { $($body)* }); };
    (@impl $deny:literal, $ty:ident { $($field:ident: $key:literal $mode:ident),* $(,)? }) => {
        impl $ty {
            /// Its members' JSON names.
            #[allow(dead_code)]
            pub const FIELD_NAMES: &'static [&'static str] = &[$($key),*];
        }
        impl $crate::json::ReadJson for $ty {
            fn read_json(&mut self, v: &$crate::json::Value) -> Result<(), Box<$crate::json::DecodeError>> {
                let f = $crate::json::Fields::of(v)?;
                if $deny {
                    f.only(Self::FIELD_NAMES)?;
                }
                $( $crate::json::codec::json_object!(@read $mode, f, $key, self.$field); )*
                Ok(())
            }
        }
        impl $crate::json::ToJson for $ty {
            fn write_json(&self, out: &mut String) {
                let o = $crate::json::Obj::new(out);
                $( let o = $crate::json::codec::json_object!(@write $mode, o, $key, self.$field); )*
                o.end();
            }
        }
    };
    (@read req, $f:ident, $key:literal, $slot:expr) => { $f.req($key, &mut $slot)? };
    (@read $mode:ident, $f:ident, $key:literal, $slot:expr) => { $f.opt($key, &mut $slot)? };
    (@write skip, $o:ident, $key:literal, $value:expr) => { $o.some($key, &$value) };
    (@write $mode:ident, $o:ident, $key:literal, $value:expr) => { $o.field($key, &$value) };
}
pub(crate) use json_object;

/// Implements [`FromJson`] and [`ToJson`] for an enum written as one of a few strings.
macro_rules! json_enum {
    ($ty:ident { $($variant:ident: $name:literal),* $(,)? }) => {
        impl $ty {
            const JSON_NAMES: &'static [($ty, &'static str)] = &[$(($ty::$variant, $name)),*];
        }
        impl $crate::json::ReadJson for $ty {
            fn read_json(&mut self, v: &$crate::json::Value) -> Result<(), Box<$crate::json::DecodeError>> {
                *self = $crate::json::codec::read_enum(v, Self::JSON_NAMES)?;
                Ok(())
            }
        }
        impl $crate::json::ToJson for $ty {
            fn write_json(&self, out: &mut String) {
                $crate::json::ToJson::write_json($crate::json::codec::enum_name(self, Self::JSON_NAMES), out);
            }
        }
    };
}
pub(crate) use json_enum;
