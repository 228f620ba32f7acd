//! What the OGC API – Features serves that the rest of the API does not:
//! other coordinate systems (Part 2) and a flat, fixed field list per
//! collection (what desktop GIS and file formats can hold).

pub mod crs;
pub mod fields;
