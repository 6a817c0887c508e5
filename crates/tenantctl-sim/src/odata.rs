//! OData query options as Graph parses them (being written).
