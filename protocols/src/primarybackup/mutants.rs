//! Primary-backup's mutants: the bugs the classic lab's students and real systems
//! shipped, each caught by a scenario in `scenarios/primarybackup/mutants/`.

sim_core::mutants! {
    /// Broken variants of primary-backup replication.
    pub enum PrimaryBackupMutant {
        /// The split-brain lesson: a backup promotes itself.
        PromoteOnSuspicion => "promote-on-suspicion", safety,
            "a backup that stops hearing its primary promotes itself to the next view and \
             serves alone, without the view service: cut off by a partition while the old \
             primary keeps serving with a new backup, it is a second primary (split brain)",
        /// The primary answers before its backup stored the request.
        ReplyBeforeAck => "reply-before-ack", safety,
            "the primary answers a client as soon as it applied the request, before the \
             backup acknowledged it, so a write the client saw succeed is lost when the \
             primary dies and the backup takes over",
        /// The view service does not wait for the primary's acknowledgement.
        ViewBeforeAck => "view-before-ack", safety,
            "the view service moves to a new view before the current primary acknowledged \
             the current one, so it may promote a backup that never received the state \
             transfer",
        /// The primary acknowledges its view before the backup has its state.
        AckBeforeTransfer => "ack-before-transfer", safety,
            "a new primary acknowledges its view at once instead of after its backup \
             installed the state transfer, so the view service may promote a backup that \
             never received the state",
        /// A primary answers reads from its own state.
        StaleRead => "stale-read", safety,
            "the primary answers gets from its own machine without forwarding them, so a \
             primary cut off after the view service moved on serves stale values",
    }
}
