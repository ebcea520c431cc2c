"""Writers: each turns the generated district's Campus tables into one output format."""
