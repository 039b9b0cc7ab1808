"""The quality gate: a finished video checked against what was asked and against the product in its photos; one
report type (`report`), the technical checks (`technical`) over what one decode of the clip gives (`signals`)."""
