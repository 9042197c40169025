create sequence coord.fencing_seq as bigint;
comment on sequence coord.fencing_seq is 'Source of fencing tokens: one sequence for locks and claims, so tokens are comparable across both.';
