pub mod demo;
pub mod init;
pub mod issue;
pub mod photo;
pub mod pickup;
pub mod points;
pub mod record;
pub mod track;
