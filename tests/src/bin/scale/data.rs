//! Deterministic, realistic users: person `i` is the same on every call, so
//! neither store needs the whole population in memory.

/// First names.
const FIRST: [&str; 40] = [
    "Aarav",
    "Vivaan",
    "Aditya",
    "Vihaan",
    "Arjun",
    "Sai",
    "Reyansh",
    "Krishna",
    "Ishaan",
    "Shaurya",
    "Rohan",
    "Karthik",
    "Siddharth",
    "Rahul",
    "Manish",
    "Venkatesh",
    "Suresh",
    "Harish",
    "Pranav",
    "Nikhil",
    "Aadhya",
    "Ananya",
    "Diya",
    "Priya",
    "Saanvi",
    "Kavya",
    "Lakshmi",
    "Meera",
    "Pooja",
    "Divya",
    "Sneha",
    "Shreya",
    "Nandini",
    "Deepika",
    "Isha",
    "Aishwarya",
    "Gayatri",
    "Swathi",
    "Fatima",
    "Harpreet",
];
/// Last names.
const LAST: [&str; 40] = [
    "Sharma",
    "Verma",
    "Gupta",
    "Singh",
    "Kumar",
    "Patel",
    "Shah",
    "Mehta",
    "Iyer",
    "Iyengar",
    "Nair",
    "Menon",
    "Pillai",
    "Reddy",
    "Rao",
    "Naidu",
    "Chowdhury",
    "Banerjee",
    "Chatterjee",
    "Mukherjee",
    "Das",
    "Bose",
    "Ghosh",
    "Joshi",
    "Kulkarni",
    "Deshpande",
    "Patil",
    "Pawar",
    "Jadhav",
    "Yadav",
    "Mishra",
    "Tiwari",
    "Pandey",
    "Agarwal",
    "Malhotra",
    "Kapoor",
    "Khanna",
    "Gill",
    "Sandhu",
    "Khan",
];
/// Mail domains.
const DOMAINS: [&str; 5] = [
    "gmail.com",
    "yahoo.co.in",
    "rediffmail.com",
    "outlook.com",
    "hotmail.com",
];
/// ISO 3166-2:IN codes.
const STATES: [&str; 12] = [
    "IN-KA", "IN-TN", "IN-KL", "IN-MH", "IN-DL", "IN-UP", "IN-WB", "IN-GJ", "IN-RJ", "IN-TG",
    "IN-AP", "IN-PB",
];
/// Choices of the custom field `Stream`.
pub const STREAMS: [&str; 4] = ["Science", "Commerce", "Arts", "Engineering"];
/// Genders by code.
const GENDERS: [&str; 3] = ["male", "female", "trans"];
/// How many batches the institute has.
pub const BATCHES: usize = 50;

/// SplitMix64: a small, good, seedable generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        roster_tests::splitmix64(&mut self.0)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A pick from `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The name of batch `i` (0-based).
pub fn batch_name(i: usize) -> String {
    let exams = ["JEE", "NEET", "UPSC", "CAT", "GATE"];
    format!(
        "{} {} Batch {:02}",
        exams[i % exams.len()],
        2026 + (i / 25),
        i + 1
    )
}

/// One user as both stores take it.
#[derive(Debug, Clone)]
pub struct Person {
    /// Login name, unique.
    pub username: String,
    /// Email, unique.
    pub email: String,
    /// Ten-digit mobile number, unique.
    pub phone: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// `DD/MM/YYYY`.
    pub birth_date: String,
    /// The same date, `yyyy-mm-dd` (SQLite's spelling).
    pub birth_iso: String,
    /// ISO 3166-2:IN code.
    pub state: String,
    /// `male`, `female`, `trans`.
    pub gender: &'static str,
    /// Value of the custom field `Stream`.
    pub stream: &'static str,
    /// Batch indexes (0-based), distinct, 1-3 of them.
    pub batches: Vec<usize>,
    /// Expiry of those subscriptions, `yyyy-mm-dd` (30% of users).
    pub expires: Option<String>,
}

/// Person `i` (0-based) of the population seeded `seed`.
pub fn person(seed: u64, i: u64) -> Person {
    let mut rng = Rng::new(seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
    let first = *rng.pick(&FIRST);
    let last = *rng.pick(&LAST);
    let (f, l) = (first.to_lowercase(), last.to_lowercase());
    let username = match rng.below(3) {
        0 => format!("{f}.{l}{i}"),
        1 => format!("{f}{l}_{i}"),
        _ => format!("{f}_{i}"),
    };
    let email = format!("{f}.{l}.{i}@{}", rng.pick(&DOMAINS));
    // 10^9 and 7_654_321 share no factor: distinct i, distinct phone.
    let phone = format!(
        "9{:09}",
        (i.wrapping_mul(7_654_321) + 12_345) % 1_000_000_000
    );
    let (y, m, d) = (1995 + rng.below(16), 1 + rng.below(12), 1 + rng.below(28));
    let count = 1 + rng.below(3) as usize;
    let mut batches = Vec::with_capacity(count);
    while batches.len() < count {
        let b = rng.below(BATCHES as u64) as usize;
        if !batches.contains(&b) {
            batches.push(b);
        }
    }
    // Expiries between 2026-01-01 (the import's "today") and 2027-06-30:
    // those before 2026-11-22 (the measurements' "today") have expired.
    let expires = (rng.below(10) < 3).then(|| {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")
            + chrono::Duration::days(rng.below(546) as i64);
        day.format("%Y-%m-%d").to_string()
    });
    Person {
        username,
        email,
        phone,
        first_name: first.into(),
        last_name: last.into(),
        birth_date: format!("{d:02}/{m:02}/{y}"),
        birth_iso: format!("{y}-{m:02}-{d:02}"),
        state: (*rng.pick(&STATES)).into(),
        gender: GENDERS[rng.below(GENDERS.len() as u64) as usize],
        stream: STREAMS[rng.below(STREAMS.len() as u64) as usize],
        batches,
        expires,
    }
}

/// A 3-4 character fragment of some user's username or email, lowercase.
pub fn fragment(rng: &mut Rng, seed: u64, users: u64) -> String {
    let p = person(seed, rng.below(users));
    let source = if rng.below(2) == 0 {
        p.first_name.to_lowercase()
    } else {
        p.last_name.to_lowercase()
    };
    let len = 3 + rng.below(2) as usize;
    let len = len.min(source.len());
    let start = rng.below((source.len() - len + 1) as u64) as usize;
    source[start..start + len].to_string()
}
